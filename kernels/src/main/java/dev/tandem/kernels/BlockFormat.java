package dev.tandem.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Shared kernel structure for block-quantized formats: a weight row is dequantized once into a
 * per-thread F32 scratch row, which is then multiplied with every vector of the batch through
 * {@link Dot}. The row's bytes are read once per matmul however large the batch; the reduction
 * order is that of {@link Dot}, so results are batch-invariant. Subclasses define the byte layout
 * and may override {@link #dequantizeFast} with a vectorized decoder that produces the same floats.
 */
public abstract class BlockFormat implements Format {
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[4096]);

    /** Decodes {@code n} weights; must produce exactly the floats {@link #dequantize} produces. */
    protected void dequantizeFast(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        dequantize(data, offset, out, outOffset, n);
    }

    /** A per-thread scratch row of at least {@code n} floats (allocated only when it must grow). */
    protected static float[] scratch(int n) {
        float[] s = SCRATCH.get();
        if (s.length < n) {
            s = new float[Math.max(n, 2 * s.length)];
            SCRATCH.set(s);
        }
        return s;
    }

    @Override
    public float dot(MemorySegment data, long offset, float[] x, int xOffset, int n) {
        float[] w = scratch(n);
        dequantizeFast(data, offset, w, 0, n);
        return Dot.dot(w, 0, x, xOffset, n);
    }

    @Override
    public void matmul(MemorySegment data, long base, int cols, int rowStart, int rowEnd,
                       float[] x, int batch, float[] out, int outStride) {
        float[] w = scratch(cols);
        long rowBytes = rowBytes(cols);
        for (int r = rowStart; r < rowEnd; r++) {
            dequantizeFast(data, base + r * rowBytes, w, 0, cols);
            Dot.rowTimesBatch(w, 0, cols, x, 0, cols, batch, out, r, outStride);
        }
    }

    /** Checks that {@code n} is a whole number of blocks. */
    protected final void checkBlocks(int n) {
        int bs = type().blockSize;
        if (n % bs != 0) {
            throw new IllegalArgumentException(n + " is not a multiple of the " + type() + " block size " + bs);
        }
    }
}
