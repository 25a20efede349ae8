package dev.tandem.kernels;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.Random;

import static dev.tandem.kernels.TestData.assertBits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scalar quantizers (the formats that write: F32, F16, BF16, Q8_0, Q4_0): known answers for
 * the rounding rules of llama.cpp's {@code quantize_row_*_ref} / {@code GGML_FP32_TO_*}, and
 * quantize → dequantize error bounds on seeded random rows.
 */
class QuantizeTest {

    /** binary16 keeps 11 significant bits: round to nearest loses at most 2^-11 relative (normal range). */
    static final double F16_RELATIVE_ERROR = 0x1p-11;
    /** bfloat16 keeps 8 significant bits: at most 2^-8 relative. */
    static final double BF16_RELATIVE_ERROR = 0x1p-8;
    /** Slack for the float rounding of {@code x * (1/d)} in the block quantizers, in units of |d|. */
    static final double BLOCK_ROUNDING_SLACK = 1e-5;

    static final long[] SEEDS = {7, 8, 9};

    private static byte[] quantize(Format f, float[] src) {
        byte[] out = new byte[(int) f.rowBytes(src.length)];
        f.quantize(src, 0, src.length, MemorySegment.ofArray(out), 0);
        return out;
    }

    private static float[] roundTrip(Format f, float[] src) {
        float[] back = new float[src.length];
        f.dequantize(MemorySegment.ofArray(quantize(f, src)), 0, back, 0, src.length);
        return back;
    }

    private static float[] spread(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(9) - 4));   // magnitudes 2^-4 .. 2^4
        }
        return x;
    }

    @Test
    void everyQuantizingFormatIsCovered() {
        for (Format f : Formats.all()) {
            boolean covered = switch (f.type()) {
                case F32, F16, BF16, Q8_0, Q4_0 -> true;
                default -> false;
            };
            assertEquals(covered, f.canQuantize(), () -> f.type() + ".canQuantize()");
        }
    }

    @Test
    void f32RoundTripIsIdentity() {
        float[] x = spread(100, 1);
        x[3] = -0f;
        x[4] = Float.MIN_VALUE;
        float[] back = roundTrip(F32.INSTANCE, x);
        for (int i = 0; i < x.length; i++) {
            assertBits(x[i], back[i], "F32 element " + i);
        }
    }

    @Test
    void f16RoundsToNearestEven() {
        float[] x = {1 + 0x1p-11f, 1 + 3 * 0x1p-11f, 1 + 0x1p-11f + 0x1p-20f, 65520f, 0x1p-25f, 0x1p-25f + 0x1p-30f, -2.5f};
        float[] expected = {1f, 1 + 0x1p-9f, 1 + 0x1p-10f, Float.POSITIVE_INFINITY, 0f, 0x1p-24f, -2.5f};
        float[] back = roundTrip(F16.INSTANCE, x);
        for (int i = 0; i < x.length; i++) {
            assertBits(expected[i], back[i], "F16 of " + x[i]);
        }
    }

    @Test
    void bf16RoundsToNearestEvenLikeGgml() {
        float[] x = {1 + 0x1p-8f, 1 + 3 * 0x1p-8f, 1 + 0x1p-8f + 0x1p-20f, Float.MAX_VALUE, -3f,
                Float.intBitsToFloat(0x7f800001) /* signalling NaN */, Float.intBitsToFloat(0x00018000) /* subnormal tie */};
        int[] expected = {0x3f80, 0x3f82, 0x3f81, 0x7f80, 0xc040, 0x7fc0, 0x0002};
        byte[] q = quantize(BF16.INSTANCE, x);
        MemorySegment seg = MemorySegment.ofArray(q);
        for (int i = 0; i < x.length; i++) {
            int bits = seg.get(TestData.HALF, 2L * i) & 0xffff;
            int want = expected[i];
            assertEquals(want, bits, "BF16 bits of 0x" + Integer.toHexString(Float.floatToRawIntBits(x[i])));
        }
    }

    @Test
    void halfRoundTripsWithinOneHalfUlp() {
        for (long seed : SEEDS) {
            float[] x = spread(1000, seed);
            float[] f16 = roundTrip(F16.INSTANCE, x), bf16 = roundTrip(BF16.INSTANCE, x);
            for (int i = 0; i < x.length; i++) {
                int at = i;
                double err16 = Math.abs(f16[i] - (double) x[i]), errBf = Math.abs(bf16[i] - (double) x[i]);
                if (Math.abs(x[i]) >= 0x1p-14f) {        // F16 normal range
                    assertTrue(err16 <= F16_RELATIVE_ERROR * Math.abs(x[i]), () -> "F16 seed=" + seed + " x[" + at + "]=" + x[at] + " → " + f16[at]);
                }
                assertTrue(errBf <= BF16_RELATIVE_ERROR * Math.abs(x[i]), () -> "BF16 seed=" + seed + " x[" + at + "]=" + x[at] + " → " + bf16[at]);
            }
        }
    }

    @Test
    void q8_0KnownBlock() {
        float[] x = new float[32];
        x[0] = 127f;      // amax → d = 1
        x[1] = 2.5f;      // roundf: halves away from zero → 3
        x[2] = -2.5f;     // → -3
        x[3] = 0.49f;     // → 0
        x[4] = -127f;     // → -127
        byte[] q = quantize(Q8_0.INSTANCE, x);
        byte[] expected = new byte[34];
        expected[1] = 0x3c;                 // f16 1.0 = 0x3c00, little-endian
        expected[2] = 127;
        expected[3] = 3;
        expected[4] = -3;
        expected[6] = -127;
        assertEquals(HexFormat.of().formatHex(expected), HexFormat.of().formatHex(q), "Q8_0 block of " + java.util.Arrays.toString(x));
    }

    @Test
    void q4_0KnownBlock() {
        float[] x = new float[32];
        x[0] = -8f;       // largest magnitude: d = max / -8 = 1, q = trunc(-8 + 8.5) = 0
        x[1] = 7f;        // trunc(15.5) = 15
        x[2] = 0.49f;     // trunc(8.99) = 8
        x[3] = 0.5f;      // trunc(9.0) = 9
        x[4] = -0.5f;     // trunc(8.0) = 8
        x[16] = 7.6f;     // trunc(16.1) = 16 → clamped to 15
        x[17] = -7.6f;    // trunc(0.9) = 0
        byte[] q = quantize(Q4_0.INSTANCE, x);
        byte[] expected = new byte[18];
        expected[1] = 0x3c;                        // d = f16 1.0
        expected[2] = (byte) (0 | 15 << 4);        // weights 0 and 16
        expected[3] = (byte) (15 | 0 << 4);        // weights 1 and 17
        expected[4] = (byte) (8 | 8 << 4);         // weights 2 and 18 (x[18] = 0 → 8)
        expected[5] = (byte) (9 | 8 << 4);
        for (int j = 4; j < 16; j++) {
            expected[2 + j] = (byte) (8 | 8 << 4);
        }
        assertEquals(HexFormat.of().formatHex(expected), HexFormat.of().formatHex(q), "Q4_0 block of " + java.util.Arrays.toString(x));
    }

    /**
     * Q8_0: q = round(x / d), d = amax / 127, stored as f16 d'. Per weight
     * |x - d'q| ≤ |d|/2 + 127·|d - d'| (+ float rounding slack).
     */
    @Test
    void q8_0RoundTripWithinHalfAStep() {
        blockRoundTrip(Q8_0.INSTANCE, 127, 127, 0.5);
    }

    /**
     * Q4_0: q = min(15, trunc(x / d + 8.5)), d = max / -8, stored as f16 d'. Per weight
     * |x - d'(q - 8)| ≤ |d|/2 + 8·|d - d'|, except where x / d ≥ 7.5 is clamped to q = 15: there ≤ |d| + 8·|d - d'|.
     */
    @Test
    void q4_0RoundTripWithinHalfAStep() {
        blockRoundTrip(Q4_0.INSTANCE, -8, 8, 0.5);
    }

    /** {@code d = maxSigned / divisor} per block of 32 (Q8_0 divides amax by 127, Q4_0 the signed max by -8). */
    private static void blockRoundTrip(Format f, float divisor, int maxQ, double halfStep) {
        for (long seed : SEEDS) {
            float[] x = spread(32 * 40, seed);
            float[] back = roundTrip(f, x);
            for (int b = 0; b < x.length / 32; b++) {
                float max = 0, amax = 0;
                for (int i = 0; i < 32; i++) {
                    if (Math.abs(x[32 * b + i]) > amax) {
                        amax = Math.abs(x[32 * b + i]);
                        max = x[32 * b + i];
                    }
                }
                float d = (divisor > 0 ? amax : max) / divisor;
                double stored = Float.float16ToFloat(Float.floatToFloat16(d));
                for (int i = 0; i < 32; i++) {
                    int at = 32 * b + i;
                    boolean clamped = f == Q4_0.INSTANCE && x[at] / (double) d >= 7.5 - 1e-6;
                    double bound = ((clamped ? 1.0 : halfStep) + BLOCK_ROUNDING_SLACK) * Math.abs(d) + maxQ * Math.abs(d - stored);
                    double err = Math.abs(back[at] - (double) x[at]);
                    assertTrue(err <= bound, () -> f.type() + " seed=" + seed + " block=" + (at / 32) + " x[" + at + "]=" + x[at]
                            + " → " + back[at] + " d=" + d + " error " + err + " > bound " + bound);
                }
            }
        }
    }

    @Test
    void quantizeWritesOnlyItsBytes() {
        for (Format f : Formats.all()) {
            if (!f.canQuantize()) {
                continue;
            }
            float[] x = spread(64, 3);
            int bytes = (int) f.rowBytes(64);
            byte[] out = new byte[bytes + 10];
            java.util.Arrays.fill(out, (byte) 0x5a);
            f.quantize(x, 0, 64, MemorySegment.ofArray(out), 5);
            for (int i : new int[] {0, 1, 2, 3, 4, bytes + 5, bytes + 6, bytes + 9}) {
                assertEquals(0x5a, out[i] & 0xff, f.type() + " wrote byte " + i + " outside [5, " + (bytes + 5) + ")");
            }
            assertTrue(out[5] != 0x5a || out[6] != 0x5a || out[7] != 0x5a, () -> f.type() + " wrote nothing");
        }
    }
}
