package dev.tandem.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

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

    private static final VectorSpecies<Float> F = Vectors.F;

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

    /**
     * Fused decode + dot in the order of decode-to-scratch + {@link Dot#dot}: 16-weight chunk k
     * into chain k % 4.
     * The vector code is written out here rather than through a helper: a helper that takes or
     * returns a vector is not always inlined by C2 (its compiled size passes the inlining limits),
     * and then every vector is boxed on the heap — that made this loop 5x slower.
     */
    @Override
    protected void dotLanes(MemorySegment data, long offset, float[] x, int xOffset, int n, float[] lanes, int at) {
        checkBlocks(n);
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int u = 0; u < n / 64; u++) {                 // 64 weights: chunks low/0, low/16, high/0, high/16 → chains 0..3
            int c = u & 3;
            long blk = offset + (long) (u >> 2) * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(HALF, blk + D));
            float dmin = Float.float16ToFloat(data.get(HALF, blk + DMIN));
            float d1 = d * scale(data, blk + SCALES, 2 * c), m1 = dmin * min(data, blk + SCALES, 2 * c);
            float d2 = d * scale(data, blk + SCALES, 2 * c + 1), m2 = dmin * min(data, blk + SCALES, 2 * c + 1);
            ByteVector qa = ByteVector.fromMemorySegment(B16, data, blk + QS + 32 * c, LE), qb = ByteVector.fromMemorySegment(B16, data, blk + QS + 32 * c + 16, LE);
            int xo = xOffset + 64 * u;
            for (int p = 0; p < 16 / L; p++) {
                IntVector za = (IntVector) qa.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                IntVector zb = (IntVector) qb.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                c0 = ((FloatVector) za.and(0xf).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).fma(FloatVector.fromArray(F, x, xo + p * L), c0);
                c1 = ((FloatVector) zb.and(0xf).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).fma(FloatVector.fromArray(F, x, xo + 16 + p * L), c1);
                c2 = ((FloatVector) za.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).fma(FloatVector.fromArray(F, x, xo + 32 + p * L), c2);
                c3 = ((FloatVector) zb.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).fma(FloatVector.fromArray(F, x, xo + 48 + p * L), c3);
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
            for (int c = 0; c < 4; c++) {
                float d1 = d * scale(data, blk + SCALES, 2 * c), m1 = dmin * min(data, blk + SCALES, 2 * c);
                float d2 = d * scale(data, blk + SCALES, 2 * c + 1), m2 = dmin * min(data, blk + SCALES, 2 * c + 1);
                ByteVector qa = ByteVector.fromMemorySegment(B16, data, blk + QS + 32 * c, LE), qb = ByteVector.fromMemorySegment(B16, data, blk + QS + 32 * c + 16, LE);
                int o = outOffset + b * BLOCK + 64 * c;
                for (int p = 0; p < 16 / L; p++) {
                    IntVector za = (IntVector) qa.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                IntVector zb = (IntVector) qb.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                ((FloatVector) za.and(0xf).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(out, o + p * L);
                    ((FloatVector) zb.and(0xf).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(out, o + 16 + p * L);
                    ((FloatVector) za.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).intoArray(out, o + 32 + p * L);
                    ((FloatVector) zb.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).intoArray(out, o + 48 + p * L);
                }
            }
        }
    }
}
