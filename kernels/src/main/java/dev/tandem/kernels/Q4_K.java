package dev.tandem.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q4_K: super-blocks of 256 weights (8 sub-blocks of 32), 144 bytes, 4.5 bits per weight.
 * <pre>
 *   f16  d           scale of the sub-block scales
 *   f16  dmin        scale of the sub-block mins
 *   u8   scales[12]  8 six-bit scales sc[s] and 8 six-bit mins m[s], packed (see {@link #scale}, {@link #min})
 *   u8   qs[128]     four chunks of 64 weights; chunk c uses qs[32c .. 32c+32):
 *                      weight 64c + l      = d*sc[2c]   * (qs[32c+l] &amp; 0xF) - dmin*m[2c]
 *                      weight 64c + 32 + l = d*sc[2c+1] * (qs[32c+l] &gt;&gt; 4)  - dmin*m[2c+1]
 * </pre>
 * Each product {@code d*sc} and {@code dmin*m} is a float, as in llama.cpp's {@code dequantize_row_q4_K}.
 */
public final class Q4_K extends BlockFormat {
    public static final Q4_K INSTANCE = new Q4_K();
    public static final int BLOCK = 256;
    static final int D = 0, DMIN = 2, SCALES = 4, QS = SCALES + 12;
    public static final int BLOCK_BYTES = QS + BLOCK / 2;

    static {
        assert BLOCK_BYTES == GgmlType.Q4_K.blockBytes && BLOCK == GgmlType.Q4_K.blockSize;
    }

    private Q4_K() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    /**
     * Six-bit scale {@code s} (0..7) of the 12 packed bytes at {@code scales} (llama.cpp's
     * {@code get_scale_min_k4}): for s &lt; 4 the low 6 bits of byte s; else the low nibble of byte
     * s+4 with the top 2 bits of byte s-4 above it. Shared with Q5_K.
     */
    static int scale(MemorySegment data, long scales, int s) {
        if (s < 4) {
            return u8(data, scales + s) & 63;
        }
        return (u8(data, scales + s + 4) & 0xf) | (u8(data, scales + s - 4) >> 6) << 4;
    }

    /** Six-bit min {@code s}: for s &lt; 4 the low 6 bits of byte s+4; else the high nibble of byte s+4 with the top 2 bits of byte s above it. */
    static int min(MemorySegment data, long scales, int s) {
        if (s < 4) {
            return u8(data, scales + s + 4) & 63;
        }
        return (u8(data, scales + s + 4) >> 4) | (u8(data, scales + s) >> 6) << 4;
    }

    static int u8(MemorySegment data, long at) {
        return data.get(ValueLayout.JAVA_BYTE, at) & 0xff;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(HALF, blk + D));
            float dmin = Float.float16ToFloat(data.get(HALF, blk + DMIN));
            int o = outOffset + b * BLOCK;
            for (int c = 0; c < 4; c++) {
                float d1 = d * scale(data, blk + SCALES, 2 * c), m1 = dmin * min(data, blk + SCALES, 2 * c);
                float d2 = d * scale(data, blk + SCALES, 2 * c + 1), m2 = dmin * min(data, blk + SCALES, 2 * c + 1);
                for (int l = 0; l < 32; l++) {
                    int q = u8(data, blk + QS + 32 * c + l);
                    out[o + 64 * c + l] = d1 * (q & 0xf) - m1;
                    out[o + 64 * c + 32 + l] = d2 * (q >> 4) - m2;
                }
            }
        }
    }

    /** Fused decode + dot; visits the weights in index order, like decode-to-scratch + {@link Dot#dot}. */
    @Override
    public float dot(MemorySegment data, long offset, float[] x, int xOffset, int n) {
        checkBlocks(n);
        FloatVector acc = FloatVector.zero(Vectors.F);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(HALF, blk + D));
            float dmin = Float.float16ToFloat(data.get(HALF, blk + DMIN));
            int xo = xOffset + b * BLOCK;
            for (int c = 0; c < 4; c++) {
                float d1 = d * scale(data, blk + SCALES, 2 * c), m1 = dmin * min(data, blk + SCALES, 2 * c);
                float d2 = d * scale(data, blk + SCALES, 2 * c + 1), m2 = dmin * min(data, blk + SCALES, 2 * c + 1);
                ByteVector qa = load16(data, blk + QS + 32 * c), qb = load16(data, blk + QS + 32 * c + 16);
                acc = fmaScaledMinus(qa.and((byte) 0xf), d1, m1, x, xo + 64 * c, acc);
                acc = fmaScaledMinus(qb.and((byte) 0xf), d1, m1, x, xo + 64 * c + 16, acc);
                acc = fmaScaledMinus(qa.lanewise(VectorOperators.LSHR, 4), d2, m2, x, xo + 64 * c + 32, acc);
                acc = fmaScaledMinus(qb.lanewise(VectorOperators.LSHR, 4), d2, m2, x, xo + 64 * c + 48, acc);
            }
        }
        return Dot.sumLanes(acc);
    }

    @Override
    protected void dequantizeFast(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(HALF, blk + D));
            float dmin = Float.float16ToFloat(data.get(HALF, blk + DMIN));
            int o = outOffset + b * BLOCK;
            for (int c = 0; c < 4; c++) {
                float d1 = d * scale(data, blk + SCALES, 2 * c), m1 = dmin * min(data, blk + SCALES, 2 * c);
                float d2 = d * scale(data, blk + SCALES, 2 * c + 1), m2 = dmin * min(data, blk + SCALES, 2 * c + 1);
                for (int h = 0; h < 32; h += 16) {
                    ByteVector q = load16(data, blk + QS + 32 * c + h);
                    scaleMinusInto(q.and((byte) 0xf), d1, m1, out, o + 64 * c + h);
                    scaleMinusInto(q.lanewise(VectorOperators.LSHR, 4), d2, m2, out, o + 64 * c + 32 + h);
                }
            }
        }
    }
}
