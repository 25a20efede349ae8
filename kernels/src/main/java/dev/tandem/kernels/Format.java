package dev.tandem.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Kernels for weights stored in one GGML type. A weight matrix is {@code rows × cols}, row-major,
 * each row a whole number of blocks ({@code cols % blockSize == 0}), starting at byte
 * {@code base} of a segment; row {@code r} starts at {@code base + r * rowBytes(cols)}.
 * Activations are always F32 arrays.
 *
 * <p><b>Batch invariance.</b> {@link #matmul} computes every output element with the same
 * sequence of floating-point operations whatever the batch size and whatever the row range, and
 * {@link #dot} is exactly {@code matmul} of one row by one vector. So a token's result is
 * bitwise identical alone or in a batch (DESIGN.md invariant 2).
 */
public interface Format {

    GgmlType type();

    /** Bytes of one row of {@code cols} weights. */
    default long rowBytes(int cols) {
        return type().bytesFor(cols);
    }

    /** Scalar reference: {@code n} weights starting at byte {@code offset} (a block boundary) into {@code out}. */
    void dequantize(MemorySegment data, long offset, float[] out, int outOffset, int n);

    /** Scalar reference dot product of {@code n} weights at byte {@code offset} with {@code x[xOffset..]}. */
    default float dotReference(MemorySegment data, long offset, float[] x, int xOffset, int n) {
        float[] w = new float[n];
        dequantize(data, offset, w, 0, n);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) w[i] * x[xOffset + i];
        }
        return (float) sum;
    }

    /** Vectorized dot product of {@code n} weights at byte {@code offset} with {@code x[xOffset..]}. */
    float dot(MemorySegment data, long offset, float[] x, int xOffset, int n);

    /**
     * Matrix product for rows {@code [rowStart, rowEnd)}: for each of {@code batch} input vectors
     * {@code x[b * cols ..]}, {@code out[b * outStride + r] = Σ_c W[r][c] · x[b * cols + c]}.
     * Each weight block is loaded once per row and used for every vector of the batch.
     */
    void matmul(MemorySegment data, long base, int cols, int rowStart, int rowEnd,
                float[] x, int batch, float[] out, int outStride);

    /** Scalar reference quantization of {@code n} floats into this format. Not every format writes. */
    default void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        throw new UnsupportedOperationException("writing " + type() + " is not supported");
    }

    /** Whether {@link #quantize} is implemented. */
    default boolean canQuantize() {
        return false;
    }
}
