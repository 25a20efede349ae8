package dev.tandem.model;

import dev.tandem.kernels.Format;
import dev.tandem.kernels.Formats;
import dev.tandem.kernels.GgmlType;
import dev.tandem.kernels.IntKernels;
import dev.tandem.kernels.Parallel;
import dev.tandem.kernels.Q8Activations;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A matrix product under {@code --kernels q8} goes through the repacked copy where the processor has the
 * packed kernels, and through the row-major kernels when packing was declined (no memory for the copy):
 * each bitwise what its own reference computes.
 */
class MatrixPackingTest {

    @Test
    void productsUseThePackedCopyOrTheRowMajorKernelsWhenPackingWasDeclined() {
        Assumptions.assumeTrue(IntKernels.packs(GgmlType.Q8_0), "no packed kernels on this machine");
        int rows = 80, cols = 256, batch = 3;
        Format f = Formats.of(GgmlType.Q8_0);
        SplittableRandom rnd = new SplittableRandom(4);
        try (Arena arena = Arena.ofShared(); Parallel pool = new Parallel(2, "packing-test")) {
            MemorySegment w = arena.allocate(f.rowBytes(cols) * rows, 64);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    row[c] = (float) rnd.nextGaussian();
                }
                f.quantize(row, 0, cols, w, r * f.rowBytes(cols));
            }
            float[] x = new float[batch * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            Q8Activations act = new Q8Activations();
            act.quantize(x, batch, cols);
            Kernels.Q8.run(() -> {
                Matrix packed = new Matrix("w", f, w, rows, cols), declined = new Matrix("w", f, w, rows, cols);
                declined.declinePacking();
                assertNotNull(packed.pack());
                assertNull(declined.pack());
                float[] outPacked = new float[batch * rows], outDeclined = new float[batch * rows];
                new Matrix.Task().run(pool, packed, x, batch, outPacked);
                new Matrix.Task().run(pool, declined, x, batch, outDeclined);
                for (int b = 0; b < batch; b++) {
                    for (int r = 0; r < rows; r++) {
                        long at = r * f.rowBytes(cols);
                        assertEquals(Float.floatToRawIntBits(IntKernels.packedRowReference(GgmlType.Q8_0, w, at, act, b)),
                                Float.floatToRawIntBits(outPacked[b * rows + r]), "packed row " + r);
                        assertEquals(Float.floatToRawIntBits(IntKernels.rowReference(false, w, at, act, b)),
                                Float.floatToRawIntBits(outDeclined[b * rows + r]), "row-major row " + r);
                    }
                }
            });
        }
    }
}
