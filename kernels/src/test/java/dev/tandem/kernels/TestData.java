package dev.tandem.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Seeded random weights and activations, and bitwise float assertions, shared by the kernel tests. */
final class TestData {
    static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Weights start this many bytes into their segment, so no kernel may assume alignment. */
    static final int BASE = 3;

    private TestData() {}

    /**
     * Byte offsets of the f16 scale fields inside one block, from llama.cpp's ggml-common.h (declared
     * here independently of the kernels): random bytes elsewhere are valid quants, these must be finite.
     */
    static int[] halfFields(GgmlType t) {
        return switch (t) {
            case Q8_0, Q4_0 -> new int[] {0};
            case Q4_K, Q5_K -> new int[] {0, 2};   // d, dmin
            case Q6_K -> new int[] {208};          // d after ql[128], qh[64], scales[16]
            default -> throw new IllegalArgumentException("no block layout for " + t);
        };
    }

    /** {@code rows × cols} valid weights of {@code f}, starting at byte {@link #BASE} of a heap segment. */
    static MemorySegment randomWeights(Format f, int rows, int cols, long seed) {
        GgmlType t = f.type();
        long bytes = rows * f.rowBytes(cols);
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) (BASE + bytes)]);
        Random rnd = new Random(seed);
        switch (t) {
            case F32 -> {
                for (long i = 0; i < bytes / 4; i++) {
                    seg.set(FLOAT, BASE + 4 * i, uniform(rnd));
                }
            }
            case F16 -> {
                for (long i = 0; i < bytes / 2; i++) {
                    seg.set(HALF, BASE + 2 * i, Float.floatToFloat16(uniform(rnd)));
                }
            }
            case BF16 -> {
                for (long i = 0; i < bytes / 2; i++) {
                    seg.set(HALF, BASE + 2 * i, (short) (Float.floatToRawIntBits(uniform(rnd)) >>> 16));
                }
            }
            default -> {
                byte[] raw = new byte[(int) bytes];
                rnd.nextBytes(raw);
                MemorySegment.copy(MemorySegment.ofArray(raw), 0, seg, BASE, bytes);
                for (long b = 0; b < bytes / t.blockBytes; b++) {
                    for (int field : halfFields(t)) {
                        // sane scales: magnitude in [2^-8, 2^-6), either sign
                        float s = (1 + rnd.nextFloat()) * (rnd.nextBoolean() ? 1 : -1) * 0x1p-8f * (1 << rnd.nextInt(2));
                        seg.set(HALF, BASE + b * t.blockBytes + field, Float.floatToFloat16(s));
                    }
                }
            }
        }
        return seg;
    }

    static float uniform(Random rnd) {
        return rnd.nextFloat() * 2 - 1;
    }

    static float[] randomFloats(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = uniform(rnd);
        }
        return x;
    }

    /** Asserts {@code actual} has exactly the bits of {@code expected} (any NaN matches any NaN). */
    static void assertBits(float expected, float actual, String what) {
        if (Float.isNaN(expected)) {
            assertTrue(Float.isNaN(actual), () -> what + ": expected NaN, got " + actual);
            return;
        }
        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual),
                () -> what + ": expected " + expected + " (0x" + Integer.toHexString(Float.floatToRawIntBits(expected))
                        + "), got " + actual + " (0x" + Integer.toHexString(Float.floatToRawIntBits(actual)) + ")");
    }
}
