package dev.tandem.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** F32: plain little-endian IEEE floats, 4 bytes per weight. */
public final class F32 implements Format {
    public static final F32 INSTANCE = new F32();
    /** Unaligned little-endian float, the layout of every F32 value in a GGUF file. */
    public static final ValueLayout.OfFloat LAYOUT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private F32() {}

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = data.get(LAYOUT, offset + 4L * i);
        }
    }

    @Override
    public float dot(MemorySegment data, long offset, float[] x, int xOffset, int n) {
        return Dot.dot(data, offset, x, xOffset, n);
    }

    @Override
    public void matmul(MemorySegment data, long base, int cols, int rowStart, int rowEnd,
                       float[] x, int batch, float[] out, int outStride) {
        long rowBytes = 4L * cols;
        if (batch == 1) {
            for (int r = rowStart; r < rowEnd; r++) {
                out[r] = Dot.dot(data, base + r * rowBytes, x, 0, cols);
            }
            return;
        }
        float[] scratch = BlockFormat.scratch(cols);
        for (int r = rowStart; r < rowEnd; r++) {
            Dot.rowTimesBatch(data, base + r * rowBytes, cols, x, cols, batch, out, r, outStride, scratch);
        }
    }

    @Override
    public void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        for (int i = 0; i < n; i++) {
            dst.set(LAYOUT, dstOffset + 4L * i, src[srcOffset + i]);
        }
    }

    @Override
    public boolean canQuantize() {
        return true;
    }
}
