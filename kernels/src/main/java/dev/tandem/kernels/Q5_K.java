package dev.tandem.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

/**
 * Q5_K: super-blocks of 256 weights (8 sub-blocks of 32), 176 bytes, 5.5 bits per weight.
 * <pre>
 *   f16  d           scale of the sub-block scales
 *   f16  dmin        scale of the sub-block mins
 *   u8   scales[12]  8 six-bit scales and 8 six-bit mins, packed as in Q4_K ({@link Q4_K#scale}, {@link Q4_K#min})
 *   u8   qh[32]      fifth bits: bit 2c of qh[l] for weight 64c + l, bit 2c+1 for weight 64c + 32 + l
 *   u8   qs[128]     low four bits, as in Q4_K; chunk c uses qs[32c .. 32c+32):
 *                      weight 64c + l      = d*sc[2c]   * ((qs[32c+l] &amp; 0xF) + 16*bit(qh[l], 2c))   - dmin*m[2c]
 *                      weight 64c + 32 + l = d*sc[2c+1] * ((qs[32c+l] &gt;&gt; 4)  + 16*bit(qh[l], 2c+1)) - dmin*m[2c+1]
 * </pre>
 */
public final class Q5_K extends BlockFormat {
    public static final Q5_K INSTANCE = new Q5_K();
    public static final int BLOCK = 256;
    static final int D = 0, DMIN = 2, SCALES = 4, QH = SCALES + 12, QS = QH + BLOCK / 8;
    public static final int BLOCK_BYTES = QS + BLOCK / 2;

    static {
        assert BLOCK_BYTES == GgmlType.Q5_K.blockBytes && BLOCK == GgmlType.Q5_K.blockSize;
    }

    private Q5_K() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
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
                float d1 = d * Q4_K.scale(data, blk + SCALES, 2 * c), m1 = dmin * Q4_K.min(data, blk + SCALES, 2 * c);
                float d2 = d * Q4_K.scale(data, blk + SCALES, 2 * c + 1), m2 = dmin * Q4_K.min(data, blk + SCALES, 2 * c + 1);
                for (int l = 0; l < 32; l++) {
                    int q = Q4_K.u8(data, blk + QS + 32 * c + l);
                    int h = Q4_K.u8(data, blk + QH + l);
                    out[o + 64 * c + l] = d1 * ((q & 0xf) + ((h >> 2 * c) & 1) * 16) - m1;
                    out[o + 64 * c + 32 + l] = d2 * ((q >> 4) + ((h >> 2 * c + 1) & 1) * 16) - m2;
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
                float d1 = d * Q4_K.scale(data, blk + SCALES, 2 * c), m1 = dmin * Q4_K.min(data, blk + SCALES, 2 * c);
                float d2 = d * Q4_K.scale(data, blk + SCALES, 2 * c + 1), m2 = dmin * Q4_K.min(data, blk + SCALES, 2 * c + 1);
                ByteVector qa = load16(data, blk + QS + 32 * c), qb = load16(data, blk + QS + 32 * c + 16);
                ByteVector ha = load16(data, blk + QH), hb = load16(data, blk + QH + 16);
                ByteVector la = ha.lanewise(VectorOperators.LSHR, 2 * c).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                ByteVector lb = hb.lanewise(VectorOperators.LSHR, 2 * c).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                ByteVector ua = ha.lanewise(VectorOperators.LSHR, 2 * c + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                ByteVector ub = hb.lanewise(VectorOperators.LSHR, 2 * c + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                acc = fmaScaledMinus(qa.and((byte) 0xf).or(la), d1, m1, x, xo + 64 * c, acc);
                acc = fmaScaledMinus(qb.and((byte) 0xf).or(lb), d1, m1, x, xo + 64 * c + 16, acc);
                acc = fmaScaledMinus(qa.lanewise(VectorOperators.LSHR, 4).or(ua), d2, m2, x, xo + 64 * c + 32, acc);
                acc = fmaScaledMinus(qb.lanewise(VectorOperators.LSHR, 4).or(ub), d2, m2, x, xo + 64 * c + 48, acc);
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
                float d1 = d * Q4_K.scale(data, blk + SCALES, 2 * c), m1 = dmin * Q4_K.min(data, blk + SCALES, 2 * c);
                float d2 = d * Q4_K.scale(data, blk + SCALES, 2 * c + 1), m2 = dmin * Q4_K.min(data, blk + SCALES, 2 * c + 1);
                for (int l = 0; l < 32; l += 16) {
                    ByteVector q = load16(data, blk + QS + 32 * c + l);
                    ByteVector h = load16(data, blk + QH + l);
                    ByteVector h1 = h.lanewise(VectorOperators.LSHR, 2 * c).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                    ByteVector h2 = h.lanewise(VectorOperators.LSHR, 2 * c + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                    scaleMinusInto(q.and((byte) 0xf).or(h1), d1, m1, out, o + 64 * c + l);
                    scaleMinusInto(q.lanewise(VectorOperators.LSHR, 4).or(h2), d2, m2, out, o + 64 * c + 32 + l);
                }
            }
        }
    }
}
