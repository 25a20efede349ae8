package dev.tandem.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

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

    private static final VectorSpecies<Float> F = Vectors.F;

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

    /** Fused decode + dot in the order of decode-to-scratch + {@link Dot#dot}: 16-weight chunk k into chain k % 4. Vector code written out, not behind a helper (see {@link BlockFormat}). */
    @Override
    protected void dotLanes(MemorySegment data, long offset, float[] x, int xOffset, int n, float[] lanes, int at) {
        checkBlocks(n);
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int u = 0; u < n / 64; u++) {                 // 64 weights: chunks low/0, low/16, high/0, high/16 → chains 0..3
            int c = u & 3;                                 // one flat loop, as Q4_K: nested (block, then chunk) it ran 1.25x slower
            long blk = offset + (long) (u >> 2) * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(HALF, blk + D));
            float dmin = Float.float16ToFloat(data.get(HALF, blk + DMIN));
            ByteVector ha = ByteVector.fromMemorySegment(B16, data, blk + QH, LE), hb = ByteVector.fromMemorySegment(B16, data, blk + QH + 16, LE);
            float d1 = d * Q4_K.scale(data, blk + SCALES, 2 * c), m1 = dmin * Q4_K.min(data, blk + SCALES, 2 * c);
            float d2 = d * Q4_K.scale(data, blk + SCALES, 2 * c + 1), m2 = dmin * Q4_K.min(data, blk + SCALES, 2 * c + 1);
            ByteVector qa = ByteVector.fromMemorySegment(B16, data, blk + QS + 32 * c, LE), qb = ByteVector.fromMemorySegment(B16, data, blk + QS + 32 * c + 16, LE);
            int xo = xOffset + 64 * u;
            for (int p = 0; p < 16 / L; p++) {
                IntVector za = (IntVector) qa.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                IntVector zb = (IntVector) qb.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                // fifth bits: bit 2c of qh moved to bit 4 (low nibble), bit 2c+1 to bit 4 (high nibble)
                IntVector ga = ((IntVector) ha.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p)).lanewise(VectorOperators.LSHR, 2 * c);
                IntVector gb = ((IntVector) hb.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p)).lanewise(VectorOperators.LSHR, 2 * c);
                FloatVector w0 = (FloatVector) za.and(0xf).or(ga.lanewise(VectorOperators.LSHL, 4).and(16)).convert(VectorOperators.I2F, 0);
                FloatVector w1 = (FloatVector) zb.and(0xf).or(gb.lanewise(VectorOperators.LSHL, 4).and(16)).convert(VectorOperators.I2F, 0);
                FloatVector w2 = (FloatVector) za.lanewise(VectorOperators.LSHR, 4).or(ga.lanewise(VectorOperators.LSHL, 3).and(16)).convert(VectorOperators.I2F, 0);
                FloatVector w3 = (FloatVector) zb.lanewise(VectorOperators.LSHR, 4).or(gb.lanewise(VectorOperators.LSHL, 3).and(16)).convert(VectorOperators.I2F, 0);
                c0 = w0.mul(d1).sub(m1).fma(FloatVector.fromArray(F, x, xo + p * L), c0);
                c1 = w1.mul(d1).sub(m1).fma(FloatVector.fromArray(F, x, xo + 16 + p * L), c1);
                c2 = w2.mul(d2).sub(m2).fma(FloatVector.fromArray(F, x, xo + 32 + p * L), c2);
                c3 = w3.mul(d2).sub(m2).fma(FloatVector.fromArray(F, x, xo + 48 + p * L), c3);
            }
        }
        c0.add(c1).add(c2.add(c3)).intoArray(lanes, at);   // Dot.dotLanes's ending, written out (see BlockFormat)
    }

    @Override
    protected void dequantizeFast(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(HALF, blk + D));
            float dmin = Float.float16ToFloat(data.get(HALF, blk + DMIN));
            ByteVector ha = ByteVector.fromMemorySegment(B16, data, blk + QH, LE), hb = ByteVector.fromMemorySegment(B16, data, blk + QH + 16, LE);
            for (int c = 0; c < 4; c++) {                  // 64 weights: chunks low/0, low/16, high/0, high/16 → chains 0..3
                float d1 = d * Q4_K.scale(data, blk + SCALES, 2 * c), m1 = dmin * Q4_K.min(data, blk + SCALES, 2 * c);
                float d2 = d * Q4_K.scale(data, blk + SCALES, 2 * c + 1), m2 = dmin * Q4_K.min(data, blk + SCALES, 2 * c + 1);
                ByteVector qa = ByteVector.fromMemorySegment(B16, data, blk + QS + 32 * c, LE), qb = ByteVector.fromMemorySegment(B16, data, blk + QS + 32 * c + 16, LE);
                int o = outOffset + b * BLOCK + 64 * c;
                for (int p = 0; p < 16 / L; p++) {
                    IntVector za = (IntVector) qa.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    IntVector zb = (IntVector) qb.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    // fifth bits: bit 2c of qh moved to bit 4 (low nibble), bit 2c+1 to bit 4 (high nibble)
                    IntVector ga = ((IntVector) ha.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p)).lanewise(VectorOperators.LSHR, 2 * c);
                    IntVector gb = ((IntVector) hb.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p)).lanewise(VectorOperators.LSHR, 2 * c);
                    FloatVector w0 = (FloatVector) za.and(0xf).or(ga.lanewise(VectorOperators.LSHL, 4).and(16)).convert(VectorOperators.I2F, 0);
                    FloatVector w1 = (FloatVector) zb.and(0xf).or(gb.lanewise(VectorOperators.LSHL, 4).and(16)).convert(VectorOperators.I2F, 0);
                    FloatVector w2 = (FloatVector) za.lanewise(VectorOperators.LSHR, 4).or(ga.lanewise(VectorOperators.LSHL, 3).and(16)).convert(VectorOperators.I2F, 0);
                    FloatVector w3 = (FloatVector) zb.lanewise(VectorOperators.LSHR, 4).or(gb.lanewise(VectorOperators.LSHL, 3).and(16)).convert(VectorOperators.I2F, 0);
                    w0.mul(d1).sub(m1).intoArray(out, o + p * L);
                    w1.mul(d1).sub(m1).intoArray(out, o + 16 + p * L);
                    w2.mul(d2).sub(m2).intoArray(out, o + 32 + p * L);
                    w3.mul(d2).sub(m2).intoArray(out, o + 48 + p * L);
                }
            }
        }
    }
}
