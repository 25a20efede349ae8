package dev.tandem.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

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

    /** Fused decode + dot; visits the weights in index order, like decode-to-scratch + {@link Dot#dot}. */
    @Override
    public float dot(MemorySegment data, long offset, float[] x, int xOffset, int n) {
        checkBlocks(n);
        FloatVector acc = FloatVector.zero(Vectors.F);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(HALF, blk + D));
            for (int h = 0; h < 2; h++) {
                long ql = blk + QL + 64 * h, qh = blk + QH + 32 * h, sc = blk + SCALES + 8 * h;
                int xo = xOffset + b * BLOCK + 128 * h;
                ByteVector lo0 = load16(data, ql), hi0 = load16(data, ql + 32), top0 = load16(data, qh);
                ByteVector lo1 = load16(data, ql + 16), hi1 = load16(data, ql + 48), top1 = load16(data, qh + 16);
                for (int g = 0; g < 4; g++) {           // 32 weights per group, two scales of 16
                    for (int s = 0; s < 2; s++) {
                        ByteVector lo = s == 0 ? lo0 : lo1, hi = s == 0 ? hi0 : hi1, top = s == 0 ? top0 : top1;
                        ByteVector q = switch (g) {
                            case 0 -> lo.and((byte) 0xf).or(top.and((byte) 3).lanewise(VectorOperators.LSHL, 4));
                            case 1 -> hi.and((byte) 0xf).or(top.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4));
                            case 2 -> lo.lanewise(VectorOperators.LSHR, 4).or(top.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4));
                            default -> hi.lanewise(VectorOperators.LSHR, 4).or(top.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4));
                        };
                        acc = fmaScaled(q.sub((byte) 32), d * data.get(ValueLayout.JAVA_BYTE, sc + s + 2 * g), x, xo + 32 * g + 16 * s, acc);
                    }
                }
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
            for (int h = 0; h < 2; h++) {
                long ql = blk + QL + 64 * h, qh = blk + QH + 32 * h, sc = blk + SCALES + 8 * h;
                int o = outOffset + b * BLOCK + 128 * h;
                for (int s = 0; s < 2; s++) {            // 16 weights per scale: one 16-byte load each
                    int l = 16 * s;
                    ByteVector lo = load16(data, ql + l), hi = load16(data, ql + 32 + l), top = load16(data, qh + l);
                    ByteVector q1 = lo.and((byte) 0xf).or(top.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q2 = hi.and((byte) 0xf).or(top.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q3 = lo.lanewise(VectorOperators.LSHR, 4).or(top.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q4 = hi.lanewise(VectorOperators.LSHR, 4).or(top.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    scaleInto(q1, d * data.get(ValueLayout.JAVA_BYTE, sc + s), out, o + l);
                    scaleInto(q2, d * data.get(ValueLayout.JAVA_BYTE, sc + s + 2), out, o + 32 + l);
                    scaleInto(q3, d * data.get(ValueLayout.JAVA_BYTE, sc + s + 4), out, o + 64 + l);
                    scaleInto(q4, d * data.get(ValueLayout.JAVA_BYTE, sc + s + 6), out, o + 96 + l);
                }
            }
        }
    }
}
