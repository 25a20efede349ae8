package dev.tandem.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

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

    private static final VectorSpecies<Float> F = Vectors.F;

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

    /**
     * Fused: low then high nibbles of each block (chunks 2b, 2b + 1) decoded in registers and
     * multiplied at once, chunk k into chain k % 4 — the operations of decode + {@link Dot#dot}.
     * Two blocks a round; the vector code is written out, not behind a helper (see {@link BlockFormat}).
     */
    @Override
    protected void dotLanes(MemorySegment data, long offset, float[] x, int xOffset, int n, float[] lanes, int at) {
        checkBlocks(n);
        int nb = n / BLOCK;
        if ((nb & 1) != 0) {
            // An odd block count: decode to scratch and reduce through Dot (the same operations).
            // Handling the odd block here, after the loop, slows the loop itself by 15 %.
            super.dotLanes(data, offset, x, xOffset, n, lanes, at);
            return;
        }
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int b = 0; b < nb; b += 2) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d0 = Float.float16ToFloat(data.get(HALF, blk));
            float d1 = Float.float16ToFloat(data.get(HALF, blk + BLOCK_BYTES));
            ByteVector qa = ByteVector.fromMemorySegment(B16, data, blk + QS, LE), qb = ByteVector.fromMemorySegment(B16, data, blk + BLOCK_BYTES + QS, LE);
            int xo = xOffset + b * BLOCK;
            for (int p = 0; p < 16 / L; p++) {
                IntVector za = (IntVector) qa.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                IntVector zb = (IntVector) qb.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                c0 = ((FloatVector) za.and(0xf).sub(8).convert(VectorOperators.I2F, 0)).mul(d0).fma(FloatVector.fromArray(F, x, xo + p * L), c0);
                c1 = ((FloatVector) za.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).mul(d0).fma(FloatVector.fromArray(F, x, xo + 16 + p * L), c1);
                c2 = ((FloatVector) zb.and(0xf).sub(8).convert(VectorOperators.I2F, 0)).mul(d1).fma(FloatVector.fromArray(F, x, xo + 32 + p * L), c2);
                c3 = ((FloatVector) zb.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).mul(d1).fma(FloatVector.fromArray(F, x, xo + 48 + p * L), c3);
            }
        }
        c0.add(c1).add(c2.add(c3)).intoArray(lanes, at);   // Dot.dotLanes's ending, written out (see BlockFormat)
    }

    @Override
    protected void dequantizeFast(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(HALF, blk));
            int o = outOffset + b * BLOCK;
            ByteVector qs = ByteVector.fromMemorySegment(B16, data, blk + QS, LE);
            for (int p = 0; p < 16 / L; p++) {
                IntVector z = (IntVector) qs.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                ((FloatVector) z.and(0xf).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(out, o + p * L);
                ((FloatVector) z.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(out, o + 16 + p * L);
            }
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
