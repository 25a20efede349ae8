package dev.tandem.model;

import dev.tandem.gguf.GgufException;
import dev.tandem.gguf.TensorInfo;
import dev.tandem.kernels.Format;
import dev.tandem.kernels.Formats;
import dev.tandem.kernels.Parallel;

import java.lang.foreign.MemorySegment;

/** A mapped weight matrix {@code rows × cols} in some GGML format, and the kernels that use it. */
public record Matrix(String name, Format format, MemorySegment data, int rows, int cols) {

    /** The 2-D tensor {@code t} checked to be {@code rows × cols} (GGML dims {cols, rows}). */
    public static Matrix of(TensorInfo t, int rows, int cols) {
        if (t.dims().length > 2 && t.dim(2) * t.dim(3) != 1 || t.dim(0) != cols || t.dim(1) != rows) {
            throw new GgufException("tensor " + t.name() + " is " + t.shape() + ", expected [" + cols + ", " + rows + "]");
        }
        Format f;
        try {
            f = Formats.of(t.type());
        } catch (UnsupportedOperationException e) {
            throw new GgufException("tensor " + t.name() + ": " + e.getMessage());
        }
        return new Matrix(t.name(), f, t.data(), rows, cols);
    }

    /**
     * {@code out[b * rows + r] = Σ_c W[r][c] · x[b * cols + c]} for {@code b < batch}: rows are split across
     * the pool's threads; each thread streams its rows once for the whole batch.
     */
    public void matmul(Parallel pool, float[] x, int batch, float[] out) {
        pool.forRange(rows, grain(pool), (start, end) -> format.matmul(data, 0, cols, start, end, x, batch, out, rows));
    }

    /** Rows per partition unit: small enough to balance threads, a multiple that keeps ranges tidy. */
    public int grain(Parallel pool) {
        return Math.max(1, Math.min(64, rows / (4 * pool.threads())));
    }

    /** A reusable matmul task (allocation-free when reused): set its operands, then run it on a pool. */
    public static final class Task implements Parallel.RangeTask {
        private Matrix m;
        private float[] x;
        private int batch;
        private float[] out;

        /** {@code out = m · x} for {@code batch} vectors, rows split across the pool. */
        public void run(Parallel pool, Matrix m, float[] x, int batch, float[] out) {
            this.m = m;
            this.x = x;
            this.batch = batch;
            this.out = out;
            pool.forRange(m.rows, m.grain(pool), this);
            this.x = null;
            this.out = null;
        }

        @Override
        public void run(int start, int end) {
            m.format.matmul(m.data, 0, m.cols, start, end, x, batch, out, m.rows);
        }
    }

    /** Row {@code r} dequantized into {@code out[off .. off + cols)}. */
    public void row(int r, float[] out, int off) {
        format.dequantize(data, r * format.rowBytes(cols), out, off, cols);
    }

    public long bytes() {
        return data.byteSize();
    }
}
