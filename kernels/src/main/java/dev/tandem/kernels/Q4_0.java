package dev.tandem.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q4_0: blocks of 32 weights, 18 bytes, 4.5 bits per weight.
 * <pre>
 *   f16  d        scale
 *   u8   qs[16]   weight j      = d * ((qs[j] &amp; 0xF) - 8)   (low nibbles: weights 0..15)
 *                 weight j + 16 = d * ((qs[j] &gt;&gt; 4)  - 8)   (high nibbles: weights 16..31)
 * </pre>
 */
public final class Q4_0 extends BlockFormat {
    public static final Q4_0 INSTANCE = new Q4_0();
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 2 + BLOCK / 2;
    private static final int QS = 2;

    static {
        assert BLOCK_BYTES == GgmlType.Q4_0.blockBytes && BLOCK == GgmlType.Q4_0.blockSize;
    }

    private Q4_0() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(HALF, blk));
            int o = outOffset + b * BLOCK;
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = data.get(ValueLayout.JAVA_BYTE, blk + QS + j) & 0xff;
                out[o + j] = ((q & 0xf) - 8) * d;
                out[o + j + BLOCK / 2] = ((q >> 4) - 8) * d;
            }
        }
    }

    /** Fused: low then high nibbles of each block decoded in registers and multiplied at once (same operations as decode + {@link Dot#dot}). */
    @Override
    public float dot(MemorySegment data, long offset, float[] x, int xOffset, int n) {
        checkBlocks(n);
        FloatVector acc = FloatVector.zero(Vectors.F);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(HALF, blk));
            int xo = xOffset + b * BLOCK;
            ByteVector qs = load16(data, blk + QS);
            acc = fmaScaled(qs.and((byte) 0xf).sub((byte) 8), d, x, xo, acc);
            acc = fmaScaled(qs.lanewise(VectorOperators.LSHR, 4).sub((byte) 8), d, x, xo + BLOCK / 2, acc);
        }
        return Dot.sumLanes(acc);
    }

    @Override
    protected void dequantizeFast(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(HALF, blk));
            int o = outOffset + b * BLOCK;
            ByteVector qs = load16(data, blk + QS);
            scaleInto(qs.and((byte) 0xf).sub((byte) 8), d, out, o);
            scaleInto(qs.lanewise(VectorOperators.LSHR, 4).sub((byte) 8), d, out, o + BLOCK / 2);
        }
    }

    /**
     * llama.cpp's {@code quantize_row_q4_0_ref}: {@code d = max / -8} where {@code max} is the
     * value of largest magnitude (so it maps to q = 0), {@code q = min(15, trunc(x / d + 8.5))}.
     */
    @Override
    public void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            int s = srcOffset + b * BLOCK;
            float amax = 0, max = 0;
            for (int i = 0; i < BLOCK; i++) {
                float v = src[s + i];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0 ? 1f / d : 0f;
            long blk = dstOffset + (long) b * BLOCK_BYTES;
            dst.set(HALF, blk, Float.floatToFloat16(d));
            for (int j = 0; j < BLOCK / 2; j++) {
                int lo = Math.min(15, (int) (src[s + j] * id + 8.5f));
                int hi = Math.min(15, (int) (src[s + j + BLOCK / 2] * id + 8.5f));
                dst.set(ValueLayout.JAVA_BYTE, blk + QS + j, (byte) (lo | hi << 4));
            }
        }
    }

    @Override
    public boolean canQuantize() {
        return true;
    }
}
