package dev.tandem.model;

import dev.tandem.gguf.GgufException;
import dev.tandem.gguf.TensorInfo;
import dev.tandem.kernels.Format;
import dev.tandem.kernels.Formats;
import dev.tandem.kernels.IntKernels;
import dev.tandem.kernels.Parallel;
import dev.tandem.kernels.Q8Activations;

import java.lang.foreign.MemorySegment;

/**
 * A mapped weight matrix {@code rows × cols} in some GGML format, and the kernels that use it.
 * {@code packing} holds the repacked copy that the integer path's packed kernels read
 * ({@link IntKernels#packs}: Q8_0, Q4_0, Q4_K, Q6_K on AVX-512 VNNI), made once, on first use or by {@link #pack}.
 */
public record Matrix(String name, Format format, MemorySegment data, int rows, int cols, Packing packing) {

    /** The repacked copy of a matrix, made at most once (the first product or {@link #pack} makes it). */
    public static final class Packing {
        private volatile IntKernels.Packed packed;
        /** Set when the machine has no room for the copy: products keep the row-major kernels. */
        private volatile boolean declined;
    }

    public Matrix(String name, Format format, MemorySegment data, int rows, int cols) {
        this(name, format, data, rows, cols, new Packing());
    }

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
     * Rows per partition unit: small enough to balance threads, a multiple that keeps ranges tidy
     * (of 16 where the packed kernels take 16 rows at a time).
     */
    public int grain(Parallel pool) {
        int grain = Math.max(1, Math.min(64, rows / (4 * pool.threads())));
        return packedPath() ? (grain + 15) / 16 * 16 : grain;
    }

    /** Whether products with this matrix go through the packed kernels. */
    private boolean packedPath() {
        return integerPath() && IntKernels.packs(format.type()) && !packing.declined;
    }

    /** Bytes the repacked copy takes (0 when this matrix is not repacked, or already is). */
    long packBytes() {
        return packedPath() && packing.packed == null ? IntKernels.packedBytes(format.type(), rows, cols) : 0;
    }

    /** Never repack this matrix: its products keep the integer path's row-major kernels. */
    void declinePacking() {
        packing.declined = true;
    }

    /**
     * The repacked copy for the packed kernels, made now if it was not yet; null when this matrix
     * does not take them ({@code --kernels f32}, other formats, other processors).
     */
    public IntKernels.Packed pack() {
        if (!packedPath()) {
            return null;
        }
        IntKernels.Packed p = packing.packed;
        if (p == null) {
            synchronized (packing) {
                p = packing.packed;
                if (p == null) {
                    p = IntKernels.pack(format.type(), data, 0, rows, cols);
                    packing.packed = p;
                }
            }
        }
        return p;
    }

    /**
     * A reusable matmul task (allocation-free when reused): one to three matrices with the same
     * input, multiplied in one parallel section — their rows laid end to end and split across the
     * pool together, so Q/K/V (or gate/up) cost one hand-off instead of three. Each output element
     * is computed exactly as by its matrix alone.
     */
    public static final class Task implements Parallel.RangeTask {
        private final Matrix[] m = new Matrix[3];
        private final float[][] out = new float[3][];
        private int count;
        private float[] x;
        private int batch;
        /** The input quantized to 8-bit blocks, when some matrix of the task takes the integer path. */
        private final Q8Activations act = new Q8Activations();
        private boolean quantized;
        private final IntKernels.Packed[] packed = new IntKernels.Packed[3];

        /** {@code out = m · x} for {@code batch} vectors, rows split across the pool. */
        public void run(Parallel pool, Matrix m, float[] x, int batch, float[] out) {
            run(pool, x, batch, 1, m, out, null, null, null, null);
        }

        /** {@code out1 = m1 · x} and {@code out2 = m2 · x} in one parallel section. */
        public void run(Parallel pool, float[] x, int batch, Matrix m1, float[] out1, Matrix m2, float[] out2) {
            run(pool, x, batch, 2, m1, out1, m2, out2, null, null);
        }

        /** Three products of the same input in one parallel section. */
        public void run(Parallel pool, float[] x, int batch, Matrix m1, float[] out1, Matrix m2, float[] out2,
                        Matrix m3, float[] out3) {
            run(pool, x, batch, 3, m1, out1, m2, out2, m3, out3);
        }

        private void run(Parallel pool, float[] x, int batch, int count, Matrix m1, float[] out1, Matrix m2, float[] out2,
                         Matrix m3, float[] out3) {
            m[0] = m1;
            m[1] = m2;
            m[2] = m3;
            out[0] = out1;
            out[1] = out2;
            out[2] = out3;
            this.count = count;
            this.x = x;
            this.batch = batch;
            int rows = 0;
            quantized = false;
            boolean packedOnly = true;
            for (int i = 0; i < count; i++) {
                rows += m[i].rows;
                quantized |= m[i].integerPath();
                packed[i] = m[i].pack();
                packedOnly &= packed[i] != null || !m[i].integerPath();
            }
            if (quantized) {
                act.quantize(pool, x, batch, m1.cols, packedOnly);   // prompt chunks: split across the pool
            }
            pool.forRange(rows, m1.grain(pool), this);
            this.x = null;
            for (int i = 0; i < 3; i++) {
                m[i] = null;
                out[i] = null;
                packed[i] = null;
            }
        }

        @Override
        public void run(int start, int end) {
            int offset = 0;
            for (int i = 0; i < count; i++) {
                Matrix mi = m[i];
                int s = Math.max(start, offset), e = Math.min(end, offset + mi.rows);
                if (s < e && packed[i] != null) {
                    IntKernels.matmul(packed[i], s - offset, e - offset, act, out[i], mi.rows);
                } else if (s < e && quantized && mi.integerPath()) {
                    IntKernels.matmul(mi.format.type(), mi.data, 0, mi.cols, s - offset, e - offset, act, out[i], mi.rows);
                } else if (s < e) {
                    mi.format.matmul(mi.data, 0, mi.cols, s - offset, e - offset, x, batch, out[i], mi.rows);
                }
                offset += mi.rows;
            }
        }
    }

    /** Whether products with this matrix take the integer path ({@code --kernels q8}: Q8_0, Q4_0, Q4_K and Q6_K weights). */
    boolean integerPath() {
        return IntKernels.enabled() && IntKernels.supports(format.type()) && cols % 32 == 0;
    }

    /** Row {@code r} dequantized into {@code out[off .. off + cols)}. */
    public void row(int r, float[] out, int off) {
        format.dequantize(data, r * format.rowBytes(cols), out, off, cols);
    }

    public long bytes() {
        return data.byteSize();
    }
}
