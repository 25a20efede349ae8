package dev.tandem.gguf;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Broken files, each made from a valid one by damaging one field: a one-line GgufException naming file and problem. */
class GgufCorruptTest {
    @TempDir
    Path dir;

    private byte[] valid;
    private GgufLayout layout;
    private long dataOffset;

    @BeforeEach
    void writeValidSample() throws IOException {
        Path p = dir.resolve("valid.gguf");
        GgufSamples.writeSample(p);
        valid = Files.readAllBytes(p);
        layout = new GgufLayout(valid);
        try (GgufFile f = GgufFile.open(p)) {
            dataOffset = f.dataOffset();
        }
    }

    /** Damages a copy of the valid file, opens it, and checks the message. */
    private void assertBroken(String name, Consumer<ByteBuffer> damage, String... fragments) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(valid.clone()).order(ByteOrder.LITTLE_ENDIAN);
        damage.accept(b);
        Path p = dir.resolve(name + ".gguf");
        Files.write(p, b.array());
        assertProblem(p, fragments);
    }

    private static void assertProblem(Path p, String... fragments) {
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(p).close(), p.toString());
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "one line: " + m);
        assertTrue(m.contains(p.getFileName().toString()), "names the file: " + m);
        for (String f : fragments) {
            assertTrue(m.contains(f), "message '" + m + "' should contain '" + f + "'");
        }
    }

    private Path truncated(String name, long length) throws IOException {
        Path p = dir.resolve(name + ".gguf");
        Files.write(p, Arrays.copyOf(valid, (int) length));
        return p;
    }

    @Test
    void headerProblems() throws IOException {
        assertBroken("magic", b -> b.put(0, (byte) 'X'), "not a GGUF file", "magic");
        assertBroken("v1", b -> b.putInt(4, 1), "unsupported GGUF version 1", "obsolete");
        assertBroken("bigendian", b -> b.putInt(4, Integer.reverseBytes(3)), "unsupported GGUF version 50331648", "big-endian");
        assertBroken("tensorcount", b -> b.putLong(layout.tensorCountPos, 1L << 62), "absurd tensor count 4611686018427387904");
        assertBroken("tensorcountneg", b -> b.putLong(layout.tensorCountPos, -1), "absurd tensor count 18446744073709551615");
        assertBroken("kvcount", b -> b.putLong(layout.kvCountPos, 1L << 40), "absurd metadata count 1099511627776");
    }

    @Test
    void metadataProblems() throws IOException {
        assertBroken("keylength", b -> b.putLong(layout.kv("t.u8").keyLenPos(), Long.MAX_VALUE),
                "string length 9223372036854775807", "metadata entry 2");
        assertBroken("strlength", b -> b.putLong(layout.kv("t.str").valuePos(), 1L << 33), "string length 8589934592", "metadata t.str");
        assertBroken("arraylength", b -> b.putLong(layout.kv("a.u32").valuePos() + 4, 1L << 40),
                "array of 1099511627776 UINT32 values exceeds the file", "metadata a.u32");
        assertBroken("valuetype", b -> b.putInt(layout.kv("t.u8").typePos(), 13), "unknown metadata value type 13", "metadata t.u8");
        assertBroken("elementtype", b -> b.putInt(layout.kv("a.str").valuePos(), 77), "unknown metadata value type 77", "metadata a.str");
        assertBroken("duplicate", b -> b.put(layout.kv("t.i8").keyLenPos() + 8 + 2, (byte) 'u'), "duplicate metadata key t.u8");
        assertBroken("bool", b -> b.put(layout.kv("t.true").valuePos(), (byte) 2), "bool value 2 is neither 0 nor 1", "metadata t.true");
        assertBroken("alignment48", b -> b.putInt(layout.kv("general.alignment").valuePos(), 48), "general.alignment 48 is not a power of two");
        assertBroken("alignment0", b -> b.putInt(layout.kv("general.alignment").valuePos(), 0), "general.alignment 0 is not a power of two");
        assertBroken("alignmenttype", b -> b.putInt(layout.kv("general.alignment").typePos(), GgufValueType.FLOAT32.id),
                "general.alignment should be an integer, not Float");
    }

    @Test
    void tensorInfoProblems() throws IOException {
        GgufLayout.Tensor a = layout.tensors.get(0);
        GgufLayout.Tensor b = layout.tensors.get(1);
        GgufLayout.Tensor c = layout.tensors.get(2);
        GgufLayout.Tensor d = layout.tensors.get(3);
        assertEquals(List.of("a", "b", "c", "d"), layout.tensors.stream().map(GgufLayout.Tensor::name).toList());
        assertBroken("dims0", x -> x.putInt(c.nDimsPos(), 0), "tensor c has 0 dimensions (1 to 4 allowed)");
        assertBroken("dims5", x -> x.putInt(c.nDimsPos(), 5), "tensor c has 5 dimensions (1 to 4 allowed)");
        assertBroken("dimzero", x -> x.putLong(c.nDimsPos() + 4, 0), "tensor c has dimension 0 of size 0");
        assertBroken("dimneg", x -> x.putLong(a.nDimsPos() + 12, -5), "tensor a has dimension 1 of size 18446744073709551611");
        assertBroken("shape", x -> x.putLong(a.nDimsPos() + 12, 1L << 62), "tensor a has an absurd element count");
        assertBroken("blocks", x -> x.putLong(b.nDimsPos() + 4, 48), "tensor b has 48 columns, not a multiple of the Q8_0 block size 32");
        assertBroken("type", x -> x.putInt(a.typePos(), 99), "tensor a has unknown type id 99");
        assertBroken("misaligned", x -> x.putLong(b.offsetPos(), x.getLong(b.offsetPos()) + 4), "tensor b offset 100 is not aligned to 32");
        assertBroken("pastend", x -> x.putLong(d.offsetPos(), 1L << 20), "tensor d (64 bytes at data offset 1048576) extends past the end of the file");
        assertBroken("pastendhuge", x -> x.putLong(d.offsetPos(), Long.MAX_VALUE - 31), "tensor d", "extends past the end of the file");
        assertBroken("overlap", x -> x.putLong(b.offsetPos(), 0), "overlaps tensor");
        assertBroken("duplicatetensor", x -> x.put(b.namePos() + 8, (byte) 'a'), "duplicate tensor name a");
        assertBroken("tensornamelength", x -> x.putLong(c.namePos(), -2), "string length 18446744073709551614", "tensor info 2");
    }

    @Test
    void truncationsNameWhereTheFileEnds() throws IOException {
        assertEquals(dataOffset + 352, valid.length, "a 96 bytes at 0, b 136 at 96, c 20 at 256, d 64 at 288");
        assertProblem(truncated("cut0", 0), "empty file (0 bytes)");
        assertProblem(truncated("cut3", 3), "too short to be a GGUF file (3 bytes)");
        assertProblem(truncated("midheader", 12), "truncated", "(in header)");
        int strPos = layout.kv("t.str").valuePos();
        assertProblem(truncated("midstring", strPos + 8 + 3), "string length " + "héllo ▁world 🙂".getBytes(StandardCharsets.UTF_8).length + " at offset " + strPos, "exceeds the file", "metadata t.str");
        int arrPos = layout.kv("a.i32").valuePos();
        assertProblem(truncated("midarray", arrPos + 12 + 5), "array of 3 INT32 values exceeds the file", "metadata a.i32");
        assertProblem(truncated("midtensorinfo", layout.tensors.get(1).typePos() + 2), "truncated", "(in tensor b)");
        assertProblem(truncated("beforedata", layout.headerEnd), "truncated: tensor data would start at byte " + dataOffset);
        assertProblem(truncated("middata", dataOffset + 96 + 10), "tensor b (136 bytes at data offset 96) extends past the end of the file");
        for (int cut = 1; cut < valid.length; cut++) {
            Path p = truncated("cut" + cut, cut);
            GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(p).close(), "cut at " + cut);
            String m = e.getMessage();
            assertTrue(m.startsWith(p.toString() + ": ") && !m.contains("\n"), m);
            assertTrue(m.contains("too short") || m.contains("truncated") || m.contains("exceeds the file") || m.contains("past the end"),
                    "cut at " + cut + ": " + m);
            Files.delete(p);
        }
    }

    @Test
    void nestingBeyondEightArraysIsRefused() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
        b.put("GGUF".getBytes(StandardCharsets.US_ASCII)).putInt(3).putLong(0).putLong(1);
        b.putLong(1).put((byte) 'x').putInt(GgufValueType.ARRAY.id);
        for (int depth = 0; depth < 9; depth++) {
            b.putInt(GgufValueType.ARRAY.id).putLong(1);
        }
        b.putInt(GgufValueType.INT32.id).putLong(0);
        Path p = dir.resolve("deep.gguf");
        Files.write(p, Arrays.copyOf(b.array(), b.position()));
        assertProblem(p, "arrays nested deeper than 8", "metadata x");
    }

    @Test
    void notFiles() throws IOException {
        assertProblem(dir.resolve("missing.gguf"), "no such file");
        Path d = Files.createDirectory(dir.resolve("folder.gguf"));
        assertProblem(d, "is a directory");
        assertProblem(truncated("empty", 0), "empty file (0 bytes)");
    }
}
