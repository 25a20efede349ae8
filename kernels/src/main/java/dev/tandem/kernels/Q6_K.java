package dev.tandem.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q6_K: super-blocks of 256 weights (16 sub-blocks of 16), 210 bytes, 6.5625 bits per weight.
 * <pre>
 *   u8   ql[128]     low four bits
 *   u8   qh[64]      high two bits
 *   i8   scales[16]  one signed 8-bit scale per 16 weights
 *   f16  d           super-block scale
 * </pre>
 * Two halves of 128 weights; half h uses ql[64h ..], qh[32h ..], scales[8h ..]. For l in 0..31,
 * with s = l / 16 and each q a six-bit value minus 32:
 * <pre>
 *   weight 128h +      l = d*scales[8h+s]   * ((ql[64h+l]    &amp; 0xF) | ((qh[32h+l] &gt;&gt; 0) &amp; 3) &lt;&lt; 4) - 32)
 *   weight 128h + 32 + l = d*scales[8h+s+2] * ((ql[64h+32+l] &amp; 0xF) | ((qh[32h+l] &gt;&gt; 2) &amp; 3) &lt;&lt; 4) - 32)
 *   weight 128h + 64 + l = d*scales[8h+s+4] * ((ql[64h+l]    &gt;&gt; 4)  | ((qh[32h+l] &gt;&gt; 4) &amp; 3) &lt;&lt; 4) - 32)
 *   weight 128h + 96 + l = d*scales[8h+s+6] * ((ql[64h+32+l] &gt;&gt; 4)  | ((qh[32h+l] &gt;&gt; 6) &amp; 3) &lt;&lt; 4) - 32)
 * </pre>
 * {@code d*scales[..]} is one float product, then times q, as in llama.cpp's {@code dequantize_row_q6_K}.
 */
public final class Q6_K extends BlockFormat {
    public static final Q6_K INSTANCE = new Q6_K();
    public static final int BLOCK = 256;
    static final int QL = 0, QH = QL + BLOCK / 2, SCALES = QH + BLOCK / 4, D = SCALES + BLOCK / 16;
    public static final int BLOCK_BYTES = D + 2;

    static {
        assert BLOCK_BYTES == GgmlType.Q6_K.blockBytes && BLOCK == GgmlType.Q6_K.blockSize;
    }

    private static final VectorSpecies<Float> F = Vectors.F;

    private Q6_K() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    private static int u8(MemorySegment data, long at) {
        return data.get(ValueLayout.JAVA_BYTE, at) & 0xff;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(HALF, blk + D));
            for (int h = 0; h < 2; h++) {
                long ql = blk + QL + 64 * h, qh = blk + QH + 32 * h, sc = blk + SCALES + 8 * h;
                int o = outOffset + b * BLOCK + 128 * h;
                for (int l = 0; l < 32; l++) {
                    int s = l / 16;
                    int lo = u8(data, ql + l), hi = u8(data, ql + 32 + l), top = u8(data, qh + l);
                    int q1 = ((lo & 0xf) | (top & 3) << 4) - 32;
                    int q2 = ((hi & 0xf) | (top >> 2 & 3) << 4) - 32;
                    int q3 = ((lo >> 4) | (top >> 4 & 3) << 4) - 32;
                    int q4 = ((hi >> 4) | (top >> 6 & 3) << 4) - 32;
                    out[o + l] = d * data.get(ValueLayout.JAVA_BYTE, sc + s) * q1;
                    out[o + 32 + l] = d * data.get(ValueLayout.JAVA_BYTE, sc + s + 2) * q2;
                    out[o + 64 + l] = d * data.get(ValueLayout.JAVA_BYTE, sc + s + 4) * q3;
                    out[o + 96 + l] = d * data.get(ValueLayout.JAVA_BYTE, sc + s + 6) * q4;
                }
            }
        }
    }

    /** Fused decode + dot in the order of decode-to-scratch + {@link Dot#dot}: 16-weight chunk k into chain k % 4. Vector code written out, not behind a helper (see {@link BlockFormat}). */
    @Override
    protected void dotLanes(MemorySegment data, long offset, float[] x, int xOffset, int n, float[] lanes, int at) {
        checkBlocks(n);
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(HALF, blk + D));
            for (int h = 0; h < 2; h++) {
                long ql = blk + QL + 64 * h, qh = blk + QH + 32 * h, sc = blk + SCALES + 8 * h;
                ByteVector lo0 = ByteVector.fromMemorySegment(B16, data, ql, LE), hi0 = ByteVector.fromMemorySegment(B16, data, ql + 32, LE), top0 = ByteVector.fromMemorySegment(B16, data, qh, LE);
                ByteVector lo1 = ByteVector.fromMemorySegment(B16, data, ql + 16, LE), hi1 = ByteVector.fromMemorySegment(B16, data, ql + 48, LE), top1 = ByteVector.fromMemorySegment(B16, data, qh + 16, LE);
                // 128 weights = 8 chunks of 16: groups g = 0..3 of 32 (chunks 2g, 2g+1 → chains 0,1 for even g, 2,3 for odd g)
                float s00 = d * data.get(ValueLayout.JAVA_BYTE, sc), s01 = d * data.get(ValueLayout.JAVA_BYTE, sc + 1);
                float s10 = d * data.get(ValueLayout.JAVA_BYTE, sc + 2), s11 = d * data.get(ValueLayout.JAVA_BYTE, sc + 3);
                float s20 = d * data.get(ValueLayout.JAVA_BYTE, sc + 4), s21 = d * data.get(ValueLayout.JAVA_BYTE, sc + 5);
                float s30 = d * data.get(ValueLayout.JAVA_BYTE, sc + 6), s31 = d * data.get(ValueLayout.JAVA_BYTE, sc + 7);
                int xo = xOffset + b * BLOCK + 128 * h;
                for (int p = 0; p < 16 / L; p++) {
                    IntVector l0 = (IntVector) lo0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p), l1 = (IntVector) lo1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    IntVector h0 = (IntVector) hi0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p), h1 = (IntVector) hi1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    IntVector t0 = (IntVector) top0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p), t1 = (IntVector) top1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    int xp = xo + p * L;
                    c0 = ((FloatVector) l0.and(0xf).or(t0.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32).convert(VectorOperators.I2F, 0)).mul(s00).fma(FloatVector.fromArray(F, x, xp), c0);
                    c1 = ((FloatVector) l1.and(0xf).or(t1.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32).convert(VectorOperators.I2F, 0)).mul(s01).fma(FloatVector.fromArray(F, x, xp + 16), c1);
                    c2 = ((FloatVector) h0.and(0xf).or(t0.and(0xc).lanewise(VectorOperators.LSHL, 2)).sub(32).convert(VectorOperators.I2F, 0)).mul(s10).fma(FloatVector.fromArray(F, x, xp + 32), c2);
                    c3 = ((FloatVector) h1.and(0xf).or(t1.and(0xc).lanewise(VectorOperators.LSHL, 2)).sub(32).convert(VectorOperators.I2F, 0)).mul(s11).fma(FloatVector.fromArray(F, x, xp + 48), c3);
                }
                for (int p = 0; p < 16 / L; p++) {
                    IntVector l0 = (IntVector) lo0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p), l1 = (IntVector) lo1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    IntVector h0 = (IntVector) hi0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p), h1 = (IntVector) hi1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    IntVector t0 = (IntVector) top0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p), t1 = (IntVector) top1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    int xp = xo + 64 + p * L;
                    c0 = ((FloatVector) l0.lanewise(VectorOperators.LSHR, 4).or(t0.and(0x30)).sub(32).convert(VectorOperators.I2F, 0)).mul(s20).fma(FloatVector.fromArray(F, x, xp), c0);
                    c1 = ((FloatVector) l1.lanewise(VectorOperators.LSHR, 4).or(t1.and(0x30)).sub(32).convert(VectorOperators.I2F, 0)).mul(s21).fma(FloatVector.fromArray(F, x, xp + 16), c1);
                    c2 = ((FloatVector) h0.lanewise(VectorOperators.LSHR, 4).or(t0.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32).convert(VectorOperators.I2F, 0)).mul(s30).fma(FloatVector.fromArray(F, x, xp + 32), c2);
                    c3 = ((FloatVector) h1.lanewise(VectorOperators.LSHR, 4).or(t1.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32).convert(VectorOperators.I2F, 0)).mul(s31).fma(FloatVector.fromArray(F, x, xp + 48), c3);
                }
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
            for (int h = 0; h < 2; h++) {
                long ql = blk + QL + 64 * h, qh = blk + QH + 32 * h, sc = blk + SCALES + 8 * h;
                ByteVector lo0 = ByteVector.fromMemorySegment(B16, data, ql, LE), hi0 = ByteVector.fromMemorySegment(B16, data, ql + 32, LE), top0 = ByteVector.fromMemorySegment(B16, data, qh, LE);
                ByteVector lo1 = ByteVector.fromMemorySegment(B16, data, ql + 16, LE), hi1 = ByteVector.fromMemorySegment(B16, data, ql + 48, LE), top1 = ByteVector.fromMemorySegment(B16, data, qh + 16, LE);
                // 128 weights = 8 chunks of 16: groups g = 0..3 of 32 (chunks 2g, 2g+1 → chains 0,1 for even g, 2,3 for odd g)
                float s00 = d * data.get(ValueLayout.JAVA_BYTE, sc), s01 = d * data.get(ValueLayout.JAVA_BYTE, sc + 1);
                float s10 = d * data.get(ValueLayout.JAVA_BYTE, sc + 2), s11 = d * data.get(ValueLayout.JAVA_BYTE, sc + 3);
                float s20 = d * data.get(ValueLayout.JAVA_BYTE, sc + 4), s21 = d * data.get(ValueLayout.JAVA_BYTE, sc + 5);
                float s30 = d * data.get(ValueLayout.JAVA_BYTE, sc + 6), s31 = d * data.get(ValueLayout.JAVA_BYTE, sc + 7);
                int o = outOffset + b * BLOCK + 128 * h;
                for (int p = 0; p < 16 / L; p++) {
                    IntVector l0 = (IntVector) lo0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p), l1 = (IntVector) lo1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    IntVector h0 = (IntVector) hi0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p), h1 = (IntVector) hi1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    IntVector t0 = (IntVector) top0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p), t1 = (IntVector) top1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                    int op = o + p * L;
                    ((FloatVector) l0.and(0xf).or(t0.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32).convert(VectorOperators.I2F, 0)).mul(s00).intoArray(out, op);
                    ((FloatVector) l1.and(0xf).or(t1.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32).convert(VectorOperators.I2F, 0)).mul(s01).intoArray(out, op + 16);
                    ((FloatVector) h0.and(0xf).or(t0.and(0xc).lanewise(VectorOperators.LSHL, 2)).sub(32).convert(VectorOperators.I2F, 0)).mul(s10).intoArray(out, op + 32);
                    ((FloatVector) h1.and(0xf).or(t1.and(0xc).lanewise(VectorOperators.LSHL, 2)).sub(32).convert(VectorOperators.I2F, 0)).mul(s11).intoArray(out, op + 48);
                    ((FloatVector) l0.lanewise(VectorOperators.LSHR, 4).or(t0.and(0x30)).sub(32).convert(VectorOperators.I2F, 0)).mul(s20).intoArray(out, op + 64);
                    ((FloatVector) l1.lanewise(VectorOperators.LSHR, 4).or(t1.and(0x30)).sub(32).convert(VectorOperators.I2F, 0)).mul(s21).intoArray(out, op + 80);
                    ((FloatVector) h0.lanewise(VectorOperators.LSHR, 4).or(t0.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32).convert(VectorOperators.I2F, 0)).mul(s30).intoArray(out, op + 96);
                    ((FloatVector) h1.lanewise(VectorOperators.LSHR, 4).or(t1.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32).convert(VectorOperators.I2F, 0)).mul(s31).intoArray(out, op + 112);
                }
            }
        }
    }
}
