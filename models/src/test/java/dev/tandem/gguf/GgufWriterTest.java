package dev.tandem.gguf;

import dev.tandem.kernels.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufWriterTest {
    @TempDir
    Path dir;

    @Test
    void roundTripKeepsEveryValueTypeAndTensor() throws IOException {
        Path file = dir.resolve("sample.gguf");
        Map<String, byte[]> bytes = GgufSamples.writeSample(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(3, f.version());
            assertEquals(32, f.alignment());
            Map<String, Object> m = f.metadata();
            assertEquals(List.of("general.architecture", "general.alignment", "t.u8", "t.i8", "t.u16", "t.i16", "t.u32",
                    "t.i32", "t.u64", "t.i64", "t.f32", "t.f32nan", "t.f32neg0", "t.f64", "t.true", "t.false", "t.str",
                    "t.empty", "a.u8", "a.i8", "a.bool", "a.u16", "a.i16", "a.u32", "a.i32", "a.u64", "a.i64", "a.f32",
                    "a.f64", "a.str", "a.empty", "a.nested", "t.last"), List.copyOf(m.keySet()));
            assertEquals(200, m.get("t.u8"));
            assertEquals(-7, m.get("t.i8"));
            assertEquals(60000, m.get("t.u16"));
            assertEquals(-30000, m.get("t.i16"));
            assertEquals(4_000_000_000L, m.get("t.u32"));
            assertEquals(-2_000_000_000, m.get("t.i32"));
            assertEquals(-1L, m.get("t.u64"));
            assertEquals(Long.MIN_VALUE, m.get("t.i64"));
            assertEquals(1.5f, m.get("t.f32"));
            assertEquals(Float.NaN, m.get("t.f32nan"));
            assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits((Float) m.get("t.f32neg0")));
            assertEquals(-2.25e300, m.get("t.f64"));
            assertEquals(true, m.get("t.true"));
            assertEquals(false, m.get("t.false"));
            assertEquals("héllo ▁world 🙂", m.get("t.str"));
            assertEquals("", m.get("t.empty"));
            assertEquals(5L, m.get("t.last"));
            // arrays and their types: compare with what the writer was given
            GgufWriter expected = GgufSamples.allTypes();
            assertEquals(expected.keys(), m.keySet());
            assertArrayEquals(new String[] {"<unk>", "", "▁the", "日本"}, f.getArray("a.str").strings());
            assertArrayEquals(new int[] {-1, 7}, f.getArray("a.u32").ints());
            assertArrayEquals(new byte[] {0, 1, 1}, (byte[]) f.getArray("a.bool").values());
            assertArrayEquals(new short[] {(short) 65535, 1}, (short[]) f.getArray("a.u16").values());
            assertArrayEquals(new long[] {Long.MIN_VALUE, Long.MAX_VALUE}, (long[]) f.getArray("a.i64").values());
            assertArrayEquals(new double[] {Math.PI, -0.0}, (double[]) f.getArray("a.f64").values());
            assertEquals(0, f.getArray("a.empty").length());
            assertEquals(GgufValueType.INT32, f.getArray("a.empty").elementType());
            assertEquals(new GgufArray(GgufValueType.ARRAY, new GgufArray[] {
                    new GgufArray(GgufValueType.INT32, new int[] {1, 2}),
                    new GgufArray(GgufValueType.STRING, new String[] {"x"}),
                    new GgufArray(GgufValueType.ARRAY, new GgufArray[] {new GgufArray(GgufValueType.FLOAT32, new float[] {9f})})}),
                    f.getArray("a.nested"));
            Map<String, GgufValueType> types = Map.ofEntries(Map.entry("t.u8", GgufValueType.UINT8), Map.entry("t.i8", GgufValueType.INT8),
                    Map.entry("t.u16", GgufValueType.UINT16), Map.entry("t.i16", GgufValueType.INT16), Map.entry("t.u32", GgufValueType.UINT32),
                    Map.entry("t.i32", GgufValueType.INT32), Map.entry("t.u64", GgufValueType.UINT64), Map.entry("t.i64", GgufValueType.INT64),
                    Map.entry("t.f32", GgufValueType.FLOAT32), Map.entry("t.f64", GgufValueType.FLOAT64), Map.entry("t.true", GgufValueType.BOOL),
                    Map.entry("t.str", GgufValueType.STRING), Map.entry("a.nested", GgufValueType.ARRAY));
            types.forEach((k, t) -> assertEquals(t, f.typeOf(k), k));
            assertEquals(null, f.typeOf("no.such.key"));

            assertEquals(List.of("a", "b", "c", "d"), List.copyOf(f.tensors().keySet()));
            assertEquals(0, f.dataOffset() % 32, "data offset " + f.dataOffset());
            long expectedOffset = 0;
            for (TensorInfo t : f.tensors().values()) {
                assertEquals(expectedOffset, t.offset(), t.name());
                assertArrayEquals(bytes.get(t.name()), t.data().toArray(ValueLayout.JAVA_BYTE), t.name());
                expectedOffset = (t.offset() + t.bytes() + 31) / 32 * 32;
            }
            assertEquals(GgmlType.Q8_0, f.tensor("b").type());
            assertArrayEquals(new long[] {64, 2}, f.tensor("b").dims());
            assertEquals(2 * 2 * 34, f.tensor("b").bytes()); // 2 rows of 2 blocks
            assertArrayEquals(new long[] {2, 2, 2, 2}, f.tensor("d").dims());
            assertEquals(f.dataOffset() + expectedOffset, Files.size(file), "file ends with the last tensor's padding");
            byte[] all = Files.readAllBytes(file);
            TensorInfo c = f.tensor("c"); // 20 bytes, padded to 32 with zeros
            for (long p = f.dataOffset() + c.offset() + c.bytes(); p < f.dataOffset() + f.tensor("d").offset(); p++) {
                assertEquals(0, all[(int) p], "padding byte at " + p);
            }
        }
    }

    /** Bytes assembled by hand from the GGUF specification, not from our reader. */
    @Test
    void layoutMatchesTheSpecificationByteForByte() throws IOException {
        Path file = dir.resolve("tiny.gguf");
        new GgufWriter().putUint8("k", 5).putString("s", "ab").addTensor("t", GgmlType.F32, 1)
                .write(file, (t, dst) -> dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, 2.0f));
        ByteBuffer e = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
        e.put("GGUF".getBytes(StandardCharsets.US_ASCII)).putInt(3).putLong(1).putLong(2);
        e.putLong(1).put((byte) 'k').putInt(0).put((byte) 5);                          // k: UINT8 5
        e.putLong(1).put((byte) 's').putInt(8).putLong(2).put("ab".getBytes(StandardCharsets.US_ASCII)); // s: STRING "ab"
        e.putLong(1).put((byte) 't').putInt(1).putLong(1).putInt(0).putLong(0);       // t: 1 dim {1}, F32, offset 0
        int header = e.position();
        assertEquals(94, header);
        e.position(96);                                                               // aligned to 32
        e.putFloat(2.0f);
        e.position(128);                                                              // the tensor padded to 32
        byte[] expected = e.array();
        byte[] actual = Files.readAllBytes(file);
        assertEquals(HexFormat.of().formatHex(expected), HexFormat.of().formatHex(actual));
    }

    @Test
    void fileWithoutTensorsEndsAfterItsMetadata() throws IOException {
        Path file = dir.resolve("vocab-only.gguf");
        new GgufWriter().putString("general.architecture", "llama").write(file, (t, d) -> { throw new AssertionError(); });
        // 24-byte header + key (8 + 20) + type 4 + string (8 + 5)
        assertEquals(24 + 28 + 4 + 13, Files.size(file));
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals("llama", f.getString("general.architecture"));
            assertTrue(f.tensors().isEmpty());
        }
    }

    @Test
    void largerAlignmentIsUsedForEveryTensor() throws IOException {
        Path file = dir.resolve("align.gguf");
        GgufWriter w = new GgufWriter().putUint32("general.alignment", 256);
        GgufSamples.addTensors(w);
        w.write(file, new GgufSamples.Bytes(1));
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(256, f.alignment());
            assertEquals(0, f.dataOffset() % 256);
            for (TensorInfo t : f.tensors().values()) {
                assertEquals(0, t.offset() % 256, t.name() + " at " + t.offset());
            }
        }
    }

    @Test
    void failingFillerLeavesNoFile() {
        Path file = dir.resolve("broken.gguf");
        GgufWriter w = new GgufWriter().addTensor("t", GgmlType.F32, 4);
        IOException e = assertThrows(IOException.class, () -> w.write(file, (t, d) -> { throw new IOException("disk on fire"); }));
        assertEquals("disk on fire", e.getMessage());
        assertFalse(Files.exists(file));
        assertFalse(Files.exists(dir.resolve("broken.gguf.partial")));
    }

    @Test
    void misuseIsRefusedAtOnce() {
        GgufWriter w = new GgufWriter().putUint32("a", 1);
        assertMessage(() -> w.putUint32("a", 2), "duplicate metadata key a");
        assertMessage(() -> w.putUint8("b", 256), "256 is out of range for UINT8");
        assertMessage(() -> w.putInt8("b", -129), "-129 is out of range for INT8");
        assertMessage(() -> w.putUint16("b", -1), "-1 is out of range for UINT16");
        assertMessage(() -> w.putUint32("b", 1L << 32), "4294967296 is out of range for UINT32");
        assertMessage(() -> w.put("b", GgufValueType.FLOAT32, 1.0), "FLOAT32 needs a Float, not Double");
        assertMessage(() -> w.putArray("b", new GgufArray(GgufValueType.INT32, new long[] {1})), "an array of INT32 needs a int[], not long[]");
        assertMessage(() -> w.putArray("b", new GgufArray(GgufValueType.BOOL, new byte[] {2})), "bool array element 2 is neither 0 nor 1");
        assertMessage(() -> w.putUint32("general.alignment", 48), "general.alignment 48 is not a power of two");
        assertMessage(() -> w.addTensor("t", GgmlType.Q8_0, 33, 2), "tensor t has 33 columns, not a multiple of the Q8_0 block size 32");
        assertMessage(() -> w.addTensor("t", GgmlType.F32), "tensor t has 0 dimensions");
        assertMessage(() -> w.addTensor("t", GgmlType.F32, 1, 1, 1, 1, 1), "tensor t has 5 dimensions");
        assertMessage(() -> w.addTensor("t", GgmlType.F32, 4, 0), "tensor t has a dimension of size 0");
        w.addTensor("t", GgmlType.F32, 4);
        assertMessage(() -> w.addTensor("t", GgmlType.F32, 4), "duplicate tensor name t");
        GgufArray deep = new GgufArray(GgufValueType.INT32, new int[0]);
        for (int i = 0; i < 8; i++) {
            deep = new GgufArray(GgufValueType.ARRAY, new GgufArray[] {deep});
        }
        GgufArray tooDeep = deep;
        assertMessage(() -> w.putArray("deep", tooDeep), "arrays nested deeper than 8");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' should contain '" + expected + "'");
    }
}
