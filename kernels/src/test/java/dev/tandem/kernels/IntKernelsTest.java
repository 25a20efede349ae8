package dev.tandem.kernels;

import dev.tandem.kernels.x86.IntDot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The integer path: native kernels against their Java twin bitwise, batch invariance, and closeness to the exact product. */
class IntKernelsTest {

    static MemorySegment weights(Format f, int rows, int cols, SplittableRandom rnd, Arena arena) {
        long rb = f.rowBytes(cols);
        MemorySegment w = arena.allocate(rb * rows + 64, 64);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                row[c] = (float) rnd.nextGaussian() * (c % 7 == 0 ? 3 : 1);
            }
            f.quantize(row, 0, cols, w, r * rb);
        }
        return w;
    }

    static float[] vectors(int batch, int cols, SplittableRandom rnd) {
        float[] x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian() * (i % 11 == 0 ? 10 : 1);
        }
        x[5] = 0;
        return x;
    }

    @ParameterizedTest
    @CsvSource({"Q8_0, 37, 64, 3", "Q8_0, 70, 2048, 1", "Q4_0, 37, 64, 3", "Q4_0, 70, 2048, 2", "Q8_0, 1, 32, 1", "Q4_0, 3, 96, 1",
            "Q8_0, 67, 256, 9", "Q4_0, 67, 256, 9", "Q8_0, 33, 64, 4", "Q4_0, 2, 32, 8", "Q8_0, 4200, 64, 1", "Q4_0, 4200, 64, 1",
            "Q8_0, 67, 256, 8", "Q4_0, 67, 256, 13", "Q8_0, 131, 96, 21", "Q4_0, 5, 2048, 16"})
    void nativeEqualsTheJavaTwinBitwise(GgmlType type, int rows, int cols, int batch) {
        Format f = Formats.of(type);
        SplittableRandom rnd = new SplittableRandom(rows * 31L + cols);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = weights(f, rows, cols, rnd, arena);
            float[] x = vectors(batch, cols, rnd);
            Q8Activations act = new Q8Activations();
            act.quantize(x, batch, cols);
            float[] out = new float[batch * rows];
            IntKernels.matmul(type, w, 0, cols, 0, rows, act, out, rows);
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < rows; r++) {
                    float expected = IntKernels.rowReference(type == GgmlType.Q4_0, w, r * f.rowBytes(cols), act, b);
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[b * rows + r]),
                            type + " row " + r + " vector " + b + " (" + IntKernels.implementation() + "): " + expected + " vs " + out[b * rows + r]);
                }
            }
        }
    }

    @Test
    void aVectorsResultDoesNotDependOnItsBatchOrRowRange() {
        for (GgmlType type : new GgmlType[]{GgmlType.Q8_0, GgmlType.Q4_0}) {
            Format f = Formats.of(type);
            int rows = 100, cols = 256;
            SplittableRandom rnd = new SplittableRandom(7);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = weights(f, rows, cols, rnd, arena);
                float[] x = vectors(9, cols, rnd);
                Q8Activations all = new Q8Activations();
                all.quantize(x, 9, cols);
                float[] batched = new float[9 * rows];
                IntKernels.matmul(type, w, 0, cols, 0, 40, all, batched, rows);
                IntKernels.matmul(type, w, 0, cols, 40, rows, all, batched, rows);
                for (int b = 0; b < 9; b++) {
                    Q8Activations one = new Q8Activations();
                    one.quantize(java.util.Arrays.copyOfRange(x, b * cols, (b + 1) * cols), 1, cols);
                    float[] alone = new float[rows];
                    IntKernels.matmul(type, w, 0, cols, 0, rows, one, alone, rows);
                    for (int r = 0; r < rows; r++) {
                        assertEquals(Float.floatToRawIntBits(alone[r]), Float.floatToRawIntBits(batched[b * rows + r]), type + " row " + r + " vector " + b);
                    }
                }
            }
        }
    }

    @Test
    void closeToTheExactProductOfTheDequantizedWeights() {
        for (GgmlType type : new GgmlType[]{GgmlType.Q8_0, GgmlType.Q4_0}) {
            Format f = Formats.of(type);
            int rows = 64, cols = 1024;
            SplittableRandom rnd = new SplittableRandom(11);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = weights(f, rows, cols, rnd, arena);
                float[] x = vectors(1, cols, rnd);
                Q8Activations act = new Q8Activations();
                act.quantize(x, 1, cols);
                float[] out = new float[rows];
                IntKernels.matmul(type, w, 0, cols, 0, rows, act, out, rows);
                float[] deq = new float[cols];
                double largest = 0;
                for (int r = 0; r < rows; r++) {
                    double exact = f.dotReference(w, r * f.rowBytes(cols), x, 0, cols);
                    // each activation is rounded by at most half its block's step (max|x| / 254), so the
                    // error is at most Σ_blocks step/2 · Σ|w| over the block, plus float rounding
                    f.dequantize(w, r * f.rowBytes(cols), deq, 0, cols);
                    double bound = 0, magnitude = 0;
                    for (int k = 0; k < cols / 32; k++) {
                        double amax = 0, wsum = 0;
                        for (int i = 32 * k; i < 32 * k + 32; i++) {
                            amax = Math.max(amax, Math.abs(x[i]));
                            wsum += Math.abs(deq[i]);
                            magnitude += Math.abs(deq[i] * x[i]);
                        }
                        bound += amax / 254 * wsum;
                    }
                    double error = Math.abs(out[r] - exact);
                    assertTrue(error <= bound + 1e-5 * magnitude, type + " row " + r + ": error " + error + " > bound " + bound);
                    largest = Math.max(largest, error);
                }
                assertTrue(largest > 0, type + ": 8-bit activations cannot be exact here");
            }
        }
    }

    @Test
    void activationsAreRoundedAsLlamaCppRoundsThem() {
        SplittableRandom rnd = new SplittableRandom(5);
        int cols = 128;
        float[] x = vectors(2, cols, rnd);
        // block 0 of vector 0: max 127, so the step is 1 and these land exactly on halves: C's roundf takes them away from zero
        x[0] = 127f;
        float[] halves = {2.5f, -2.5f, 0.5f, -0.5f, 1.5f, -126.5f, 0f, -0f};
        System.arraycopy(halves, 0, x, 1, halves.length);
        for (int i = 1 + halves.length; i < 32; i++) {
            x[i] = 3f;
        }
        Q8Activations act = new Q8Activations();
        act.quantize(x, 2, cols);
        int[] expectedHalves = {3, -3, 1, -1, 2, -127, 0, 0};
        for (int i = 0; i < halves.length; i++) {
            assertEquals(expectedHalves[i], act.q(0, 1 + i), "x = " + halves[i]);
        }
        for (int b = 0; b < 2; b++) {
            for (int k = 0; k < cols / 32; k++) {
                float amax = 0;
                for (int i = 0; i < 32; i++) {
                    amax = Math.max(amax, Math.abs(x[b * cols + 32 * k + i]));
                }
                float d = amax / 127f, id = d != 0 ? 1f / d : 0f;
                assertEquals(d, act.scale(b, k), "scale of block " + k);
                for (int i = 0; i < 32; i++) {
                    float v = x[b * cols + 32 * k + i];
                    int q = Math.max(-127, Math.min(127, Q8_0.roundHalfAway(v * id)));
                    assertEquals(q, act.q(b, 32 * k + i), "vector " + b + " element " + (32 * k + i) + " = " + v);
                }
            }
        }
    }

    @Test
    void reportsItsImplementation() {
        String impl = IntKernels.implementation();
        System.out.println("integer kernels: " + impl + " (prefetch " + IntDot.PREFETCH + " bytes)");
        assertTrue(impl.startsWith("native ") || impl.startsWith("Java ("), impl);
    }
}
