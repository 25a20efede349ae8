package dev.tandem.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q8_0: blocks of 32 weights, 34 bytes, 8.5 bits per weight.
 * <pre>
 *   f16  d        scale
 *   i8   qs[32]   weight i = d * qs[i]
 * </pre>
 */
public final class Q8_0 extends BlockFormat {
    public static final Q8_0 INSTANCE = new Q8_0();
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 2 + BLOCK;
    static final ValueLayout.OfShort F16_LAYOUT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static {
        assert BLOCK_BYTES == GgmlType.Q8_0.blockBytes && BLOCK == GgmlType.Q8_0.blockSize;
    }

    private static final VectorSpecies<Float> F = Vectors.F;

    private Q8_0() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(F16_LAYOUT, blk));
            for (int i = 0; i < BLOCK; i++) {
                out[outOffset + b * BLOCK + i] = d * data.get(ValueLayout.JAVA_BYTE, blk + 2 + i);
            }
        }
    }

    /**
     * Fused: each 16-weight chunk is decoded in registers and multiplied at once, chunk k into
     * chain k % 4 — the operations of decode + {@link Dot#dot}. Two blocks (four chunks) a round;
     * the vector code is written out, not behind a helper (see {@link BlockFormat}).
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
            float d0 = Float.float16ToFloat(data.get(F16_LAYOUT, blk));
            float d1 = Float.float16ToFloat(data.get(F16_LAYOUT, blk + BLOCK_BYTES));
            ByteVector q0 = ByteVector.fromMemorySegment(B16, data, blk + 2, LE), q1 = ByteVector.fromMemorySegment(B16, data, blk + 18, LE);
            ByteVector q2 = ByteVector.fromMemorySegment(B16, data, blk + BLOCK_BYTES + 2, LE), q3 = ByteVector.fromMemorySegment(B16, data, blk + BLOCK_BYTES + 18, LE);
            int xo = xOffset + b * BLOCK;
            for (int p = 0; p < 16 / L; p++) {
                c0 = ((FloatVector) q0.convertShape(VectorOperators.B2F, F, p)).mul(d0).fma(FloatVector.fromArray(F, x, xo + p * L), c0);
                c1 = ((FloatVector) q1.convertShape(VectorOperators.B2F, F, p)).mul(d0).fma(FloatVector.fromArray(F, x, xo + 16 + p * L), c1);
                c2 = ((FloatVector) q2.convertShape(VectorOperators.B2F, F, p)).mul(d1).fma(FloatVector.fromArray(F, x, xo + 32 + p * L), c2);
                c3 = ((FloatVector) q3.convertShape(VectorOperators.B2F, F, p)).mul(d1).fma(FloatVector.fromArray(F, x, xo + 48 + p * L), c3);
            }
        }
        c0.add(c1).add(c2.add(c3)).intoArray(lanes, at);   // Dot.dotLanes's ending, written out (see BlockFormat)
    }

    @Override
    protected void dequantizeFast(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(F16_LAYOUT, blk));
            int o = outOffset + b * BLOCK;
            ByteVector q0 = ByteVector.fromMemorySegment(B16, data, blk + 2, LE), q1 = ByteVector.fromMemorySegment(B16, data, blk + 2 + 16, LE);
            for (int p = 0; p < 16 / L; p++) {
                ((FloatVector) q0.convertShape(VectorOperators.B2F, F, p)).mul(d).intoArray(out, o + p * L);
                ((FloatVector) q1.convertShape(VectorOperators.B2F, F, p)).mul(d).intoArray(out, o + 16 + p * L);
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            int s = srcOffset + b * BLOCK;
            float amax = 0;
            for (int i = 0; i < BLOCK; i++) {
                amax = Math.max(amax, Math.abs(src[s + i]));
            }
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            long blk = dstOffset + (long) b * BLOCK_BYTES;
            dst.set(F16_LAYOUT, blk, Float.floatToFloat16(d));
            for (int i = 0; i < BLOCK; i++) {
                dst.set(ValueLayout.JAVA_BYTE, blk + 2 + i, (byte) roundHalfAway(src[s + i] * id));
            }
        }
    }

    /** C's {@code roundf}: halves round away from zero (Java's {@code Math.round} rounds them up). */
    static int roundHalfAway(float v) {
        return (int) Math.copySign(Math.floor(Math.abs(v) + 0.5f), v);
    }

    @Override
    public boolean canQuantize() {
        return true;
    }
}
