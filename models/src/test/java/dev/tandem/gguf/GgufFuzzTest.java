package dev.tandem.gguf;

import dev.tandem.kernels.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded mutations of valid small files (byte flips, truncation, extreme values in length and
 * count fields, insertions, deletions): every outcome is a file that opens and can be read in
 * full, or a {@link GgufException} — never another exception, a hang or an out-of-memory error.
 */
class GgufFuzzTest {
    private static final long SEED = 0x6775_6666_2024L;
    private static final int BATCHES = 6;
    private static final int CASES_PER_BATCH = 500;

    @TempDir
    Path dir;

    private record Base(String name, byte[] bytes, GgufLayout layout) {}

    private List<Base> bases() throws IOException {
        List<Base> bases = new ArrayList<>();
        Path a = dir.resolve("all-types.gguf");
        GgufSamples.writeSample(a);
        bases.add(base("all-types", a));

        Path b = dir.resolve("vocab-like.gguf");
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama").putUint32("general.alignment", 64)
                .putArray("tokenizer.ggml.tokens", new GgufArray(GgufValueType.STRING, new String[] {"<unk>", "<s>", "</s>", "▁a", "b"}))
                .putArray("tokenizer.ggml.scores", new GgufArray(GgufValueType.FLOAT32, new float[] {0, 0, 0, -1, -2}))
                .putBool("tokenizer.ggml.add_bos_token", true)
                .addTensor("token_embd.weight", GgmlType.Q8_0, 32, 5)
                .addTensor("output_norm.weight", GgmlType.F32, 32);
        w.write(b, new GgufSamples.Bytes(7));
        bases.add(base("vocab-like", b));

        Path c = dir.resolve("no-tensors.gguf");
        GgufSamples.allTypes().write(c, (t, d) -> { throw new AssertionError(); });
        bases.add(base("no-tensors", c));
        return bases;
    }

    private static Base base(String name, Path p) throws IOException {
        byte[] bytes = Files.readAllBytes(p);
        return new Base(name, bytes, new GgufLayout(bytes));
    }

    @Test
    void mutatedFilesOpenOrFailWithAGgufException() throws IOException {
        List<Base> bases = bases();
        Path file = dir.resolve("case.gguf");
        int[] outcomes = new int[2]; // opened, refused
        for (int batch = 0; batch < BATCHES; batch++) {
            int first = batch * CASES_PER_BATCH;
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                for (int i = first; i < first + CASES_PER_BATCH; i++) {
                    SplittableRandom r = new SplittableRandom(SEED + i);
                    Base base = bases.get(r.nextInt(bases.size()));
                    StringBuilder what = new StringBuilder("case " + i + " (seed " + (SEED + i) + ") from " + base.name + ":");
                    byte[] bytes = mutate(base, r, what);
                    if (r.nextInt(4) == 0) {
                        bytes = mutate(new Base(base.name, bytes, base.layout), r, what);
                    }
                    Files.write(file, bytes);
                    outcomes[check(file, bytes.length, what.toString())]++;
                }
            }, "batch " + batch + " did not finish in time");
        }
        // the mutations must exercise both outcomes, or the fuzzer is not testing anything
        assertTrue(outcomes[0] > 100 && outcomes[1] > 1000, "opened " + outcomes[0] + ", refused " + outcomes[1]);
        assertEquals(BATCHES * CASES_PER_BATCH, outcomes[0] + outcomes[1]);
    }

    /** 0 when the file opened and read in full, 1 for a GgufException; any other throwable fails. */
    private static int check(Path file, long size, String what) {
        try (GgufFile f = GgufFile.open(file)) {
            for (Map.Entry<String, Object> e : f.metadata().entrySet()) {
                if (f.typeOf(e.getKey()) == null) {
                    fail(what + ": no type for " + e.getKey());
                }
                touch(e.getValue());
            }
            for (TensorInfo t : f.tensors().values()) {
                if (t.data().byteSize() != t.bytes() || t.bytes() != t.type().bytesFor(t.elements())
                        || f.dataOffset() + t.offset() + t.bytes() > size) {
                    fail(what + ": inconsistent tensor " + t.name() + " " + t.shape() + " " + t.bytes());
                }
                long sum = 0;
                for (long p = 0; p < t.bytes(); p++) {
                    sum += t.data().get(ValueLayout.JAVA_BYTE, p);
                }
                touch(sum + t.shape());
            }
            return 0;
        } catch (GgufException e) {
            if (!e.getMessage().startsWith(file.toString() + ": ") || e.getMessage().contains("\n")) {
                fail(what + ": message should be one line starting with the file: " + e.getMessage());
            }
            return 1;
        } catch (Throwable t) {
            throw new AssertionError(what + ": " + t, t);
        }
    }

    private static void touch(Object v) {
        if (v instanceof GgufArray a) {
            a.toString();
            for (int i = 0; i < a.length(); i++) {
                touch(java.lang.reflect.Array.get(a.values(), i));
            }
        } else {
            String.valueOf(v).length();
        }
    }

    private static final long[] EXTREMES = {0, 1, -1, 2, 3, 4, 5, 8, 13, 0x7FFF_FFFFL, 0xFFFF_FFFFL, 1L << 32, 1L << 31,
            Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 7, 1L << 40, 1L << 62};

    private static byte[] mutate(Base base, SplittableRandom r, StringBuilder what) {
        byte[] b = base.bytes.clone();
        int kind = r.nextInt(6);
        switch (kind) {
            case 0 -> { // flip bits or overwrite bytes
                int k = 1 + r.nextInt(8);
                for (int j = 0; j < k && b.length > 0; j++) {
                    int p = r.nextInt(b.length);
                    b[p] = r.nextBoolean() ? (byte) (b[p] ^ (1 << r.nextInt(8))) : (byte) r.nextInt(256);
                    what.append(" byte@").append(p);
                }
            }
            case 1 -> { // truncate
                int n = r.nextInt(b.length + 1);
                what.append(" truncate@").append(n);
                return Arrays.copyOf(b, n);
            }
            case 2, 3 -> { // extreme value in a length, count, dims, type or offset field
                List<GgufLayout.Field> fields = base.layout.fields;
                GgufLayout.Field f = fields.get(r.nextInt(fields.size()));
                long v = r.nextInt(4) == 0 ? r.nextLong() : r.nextBoolean() ? EXTREMES[r.nextInt(EXTREMES.length)] : b.length + r.nextInt(-8, 9);
                what.append(' ').append(f.what()).append('@').append(f.pos()).append('=').append(v);
                if (f.pos() + f.width() <= b.length) {
                    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                    if (f.width() == 8) {
                        bb.putLong(f.pos(), v);
                    } else {
                        bb.putInt(f.pos(), (int) v);
                    }
                }
            }
            case 4 -> { // insert random bytes
                int p = r.nextInt(b.length + 1);
                byte[] ins = new byte[1 + r.nextInt(16)];
                r.nextBytes(ins);
                what.append(" insert ").append(ins.length).append('@').append(p);
                byte[] out = new byte[b.length + ins.length];
                System.arraycopy(b, 0, out, 0, p);
                System.arraycopy(ins, 0, out, p, ins.length);
                System.arraycopy(b, p, out, p + ins.length, b.length - p);
                return out;
            }
            default -> { // delete a range
                if (b.length == 0) {
                    return b;
                }
                int p = r.nextInt(b.length);
                int n = Math.min(1 + r.nextInt(16), b.length - p);
                what.append(" delete ").append(n).append('@').append(p);
                byte[] out = new byte[b.length - n];
                System.arraycopy(b, 0, out, 0, p);
                System.arraycopy(b, p + n, out, p, b.length - p - n);
                return out;
            }
        }
        return b;
    }
}
