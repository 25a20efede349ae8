package dev.tandem.kernels;

import dev.tandem.kernels.x86.PackedDot;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The packed kernels ({@link PackedDot}, 16 rows a register): native against the Java twin bitwise, batch and range invariance. */
class PackedKernelsTest {

    /** Q8_0 / Q4_0: quantized Gaussian rows ({@link IntKernelsTest#weights}); Q4_K / Q6_K: random bytes with finite scales ({@link KQuantIntTest#weights}). */
    private static MemorySegment weights(Format f, int rows, int cols, SplittableRandom rnd, Arena arena) {
        GgmlType type = f.type();
        return type == GgmlType.Q4_K || type == GgmlType.Q6_K ? KQuantIntTest.weights(type, rows, cols, rnd, false, arena)
                : IntKernelsTest.weights(f, rows, cols, rnd, arena);
    }

    /** {@link IntKernelsTest#vectors}, with an all-zero block ({@code dx = 0}) where there is room. */
    private static float[] vectors(int batch, int cols, SplittableRandom rnd) {
        float[] x = IntKernelsTest.vectors(batch, cols, rnd);
        if (x.length >= 64) {
            Arrays.fill(x, 32, 64, 0f);
        }
        return x;
    }

    private static void assumePacked() {
        Assumptions.assumeTrue(PackedDot.available(), "packed kernels not on this machine: " + PackedDot.UNAVAILABLE);
    }

    @ParameterizedTest
    @CsvSource({"Q8_0, 37, 64, 3, 0, 37", "Q4_0, 37, 64, 3, 0, 37", "Q8_0, 70, 2048, 1, 0, 70", "Q4_0, 70, 2048, 1, 3, 69",
            "Q8_0, 1, 32, 1, 0, 1", "Q4_0, 3, 96, 2, 1, 3", "Q8_0, 67, 256, 9, 5, 60", "Q4_0, 67, 256, 9, 0, 67",
            "Q8_0, 4200, 64, 1, 0, 4200", "Q4_0, 4200, 64, 1, 17, 4190", "Q8_0, 131, 96, 21, 0, 131", "Q4_0, 5, 2048, 16, 0, 5",
            "Q8_0, 64, 128, 8, 16, 48", "Q4_0, 64, 128, 7, 0, 64", "Q8_0, 48, 8192, 2, 0, 48",
            "Q4_K, 37, 256, 3, 0, 37", "Q6_K, 37, 256, 3, 0, 37", "Q4_K, 70, 2048, 1, 3, 69", "Q6_K, 70, 2048, 1, 0, 70",
            "Q4_K, 67, 512, 9, 5, 60", "Q6_K, 67, 512, 9, 0, 67", "Q4_K, 4200, 256, 1, 17, 4190", "Q6_K, 131, 256, 21, 0, 131",
            "Q4_K, 5, 2048, 16, 0, 5", "Q6_K, 64, 768, 8, 16, 48"})
    void nativeEqualsTheJavaTwinBitwise(GgmlType type, int rows, int cols, int batch, int from, int to) {
        assumePacked();
        Format f = Formats.of(type);
        SplittableRandom rnd = new SplittableRandom(rows * 31L + cols + batch);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = weights(f, rows, cols, rnd, arena);
            IntKernels.Packed p = IntKernels.pack(type, w, 0, rows, cols);
            float[] x = vectors(batch, cols, rnd);
            Q8Activations act = new Q8Activations();
            act.quantize(x, batch, cols);
            float[] out = new float[batch * rows];
            Arrays.fill(out, Float.NaN);
            IntKernels.matmul(p, from, to, act, out, rows);
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < rows; r++) {
                    float got = out[b * rows + r];
                    if (r < from || r >= to) {
                        assertTrue(Float.isNaN(got), "row " + r + " outside [" + from + ", " + to + ") was written");
                        continue;
                    }
                    float expected = IntKernels.packedRowReference(type, w, r * f.rowBytes(cols), act, b);
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got),
                            type + " row " + r + " vector " + b + ": " + expected + " vs " + got);
                }
            }
        }
    }

    @Test
    void aVectorsResultDoesNotDependOnItsBatchOrRowRange() {
        assumePacked();
        for (GgmlType type : new GgmlType[]{GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K}) {
            Format f = Formats.of(type);
            int rows = 100, cols = 256, batch = 11;
            SplittableRandom rnd = new SplittableRandom(7);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = weights(f, rows, cols, rnd, arena);
                IntKernels.Packed p = IntKernels.pack(type, w, 0, rows, cols);
                float[] x = vectors(batch, cols, rnd);
                Q8Activations all = new Q8Activations();
                all.quantize(x, batch, cols);
                float[] batched = new float[batch * rows];
                IntKernels.matmul(p, 0, 48, all, batched, rows);
                IntKernels.matmul(p, 48, rows, all, batched, rows);
                for (int b = 0; b < batch; b++) {
                    Q8Activations one = new Q8Activations();
                    one.quantize(Arrays.copyOfRange(x, b * cols, (b + 1) * cols), 1, cols);
                    float[] single = new float[rows];
                    IntKernels.matmul(p, 0, rows, one, single, rows);
                    for (int r = 0; r < rows; r++) {
                        assertEquals(Float.floatToRawIntBits(single[r]), Float.floatToRawIntBits(batched[b * rows + r]),
                                type + " row " + r + " vector " + b);
                    }
                }
            }
        }
    }

    @Test
    void thePackedProductIsCloseToTheExactOne() {
        assumePacked();
        for (GgmlType type : new GgmlType[]{GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K}) {
            Format f = Formats.of(type);
            int rows = 40, cols = 512;
            SplittableRandom rnd = new SplittableRandom(11);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = weights(f, rows, cols, rnd, arena);
                IntKernels.Packed p = IntKernels.pack(type, w, 0, rows, cols);
                float[] x = vectors(1, cols, rnd);
                Q8Activations act = new Q8Activations();
                act.quantize(x, 1, cols);
                float[] out = new float[rows];
                IntKernels.matmul(p, 0, rows, act, out, rows);
                float[] row = new float[cols];
                for (int r = 0; r < rows; r++) {
                    f.dequantize(w, r * f.rowBytes(cols), row, 0, cols);
                    double exact = 0, scale = 0;
                    for (int c = 0; c < cols; c++) {
                        exact += (double) row[c] * x[c];
                        scale += Math.abs((double) row[c] * x[c]);
                    }
                    // the activations' rounding: at most half a step (max|x| / 254) per element of each block
                    assertEquals(exact, out[r], 0.01 * scale, type + " row " + r);
                }
            }
        }
    }

    /** Quantizing a batch across a pool's threads writes exactly the bytes the calling thread alone writes. */
    @Test
    void quantizingAcrossThreadsGivesTheSameProducts() {
        assumePacked();
        int rows = 48, cols = 512, batch = 37;
        Format f = Formats.of(GgmlType.Q4_0);
        SplittableRandom rnd = new SplittableRandom(12);
        try (Arena arena = Arena.ofConfined(); Parallel pool = new Parallel(3, "quantize-test")) {
            MemorySegment w = weights(f, rows, cols, rnd, arena);
            IntKernels.Packed p = IntKernels.pack(GgmlType.Q4_0, w, 0, rows, cols);
            float[] x = vectors(batch, cols, rnd);
            Q8Activations serial = new Q8Activations(), parallel = new Q8Activations();
            serial.quantize(x, batch, cols, true);
            parallel.quantize(pool, x, batch, cols, true);
            float[] a = new float[batch * rows], b = new float[batch * rows];
            IntKernels.matmul(p, 0, rows, serial, a, rows);
            IntKernels.matmul(p, 0, rows, parallel, b, rows);
            for (int i = 0; i < a.length; i++) {
                assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), "element " + i);
            }
            for (int t = 0; t < batch; t++) {
                for (int i = 0; i < cols; i++) {
                    assertEquals(serial.q(t, i), parallel.q(t, i), "vector " + t + " element " + i);
                }
            }
        }
    }
}
