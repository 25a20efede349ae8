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
        // Rows in blocks decoded to scratch (≤ 128 KB, in L2); a block meets the vectors four at a time,
        // so a 4-vector slice of x stays in L1 while the block's row pairs stream past it.
        int block = Math.max(2, Math.min(16, (32768 / cols) & ~1));
        float[] w = BlockFormat.scratch(block * cols);               // [block][cols] decoded rows
        float[] part = BlockFormat.part();
        for (int r0 = rowStart; r0 < rowEnd; r0 += block) {
            int r1 = Math.min(rowEnd, r0 + block);
            for (int r = r0; r < r1; r++) {
                MemorySegment.copy(data, LAYOUT, base + r * rowBytes, w, (r - r0) * cols, cols);   // exact
            }
            for (int b = 0; b < batch; b += 4) {
                int bEnd = Math.min(batch, b + 4);
                int r = r0;
                for (; r + 2 <= r1; r += 2) {
                    Dot.twoRowsTimesBatch(w, (r - r0) * cols, (r + 1 - r0) * cols, cols, x, cols, b, bEnd, out, r, outStride, part);
                }
                if (r < r1) {
                    for (int t = b; t < bEnd; t++) {
                        out[t * outStride + r] = Dot.dot(w, (r - r0) * cols, x, t * cols, cols);
                    }
                }
            }
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
