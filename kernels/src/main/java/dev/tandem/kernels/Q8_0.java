package dev.tandem.kernels;

import jdk.incubator.vector.FloatVector;

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

    /** Fused: each 16-weight chunk is decoded in registers and multiplied at once (same operations as decode + {@link Dot#dot}). */
    @Override
    public float dot(MemorySegment data, long offset, float[] x, int xOffset, int n) {
        checkBlocks(n);
        FloatVector acc = FloatVector.zero(Vectors.F);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(F16_LAYOUT, blk));
            int xo = xOffset + b * BLOCK;
            acc = fmaScaled(load16(data, blk + 2), d, x, xo, acc);
            acc = fmaScaled(load16(data, blk + 2 + 16), d, x, xo + 16, acc);
        }
        return Dot.sumLanes(acc);
    }

    @Override
    protected void dequantizeFast(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = offset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(F16_LAYOUT, blk));
            int o = outOffset + b * BLOCK;
            scaleInto(load16(data, blk + 2), d, out, o);
            scaleInto(load16(data, blk + 2 + 16), d, out, o + 16);
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
