package dev.tandem.kernels;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

/**
 * BF16: bfloat16, one weight per 2-byte little-endian element (16 bits per weight).
 * <pre>
 *   u16  w        weight = intBitsToFloat(w << 16)   (the high half of a float)
 * </pre>
 * Dot and matmul decode a row into the F32 scratch and reduce through {@link Dot} (see {@link BlockFormat}).
 */
public final class BF16 extends BlockFormat {
    public static final BF16 INSTANCE = new BF16();
    public static final int BLOCK = 1;
    public static final int BLOCK_BYTES = 2;
    private static final int L = Vectors.LANES;

    static {
        assert BLOCK_BYTES == GgmlType.BF16.blockBytes && BLOCK == GgmlType.BF16.blockSize;
    }

    private BF16() {}

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    /** The float whose high 16 bits are {@code bits}. */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /**
     * Round to nearest even, NaN kept quiet, like ggml's {@code ggml_compute_fp32_to_bf16}
     * (subnormals are rounded, not flushed).
     */
    public static short fromFloat(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16);
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = toFloat(data.get(HALF, offset + 2L * i));
        }
    }

    @Override
    protected void dequantizeFast(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        int bound = n - n % L;
        for (int i = 0; i < bound; i += L) {
            ((IntVector) ShortVector.fromMemorySegment(F16.SHORTS, data, offset + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, F16.INTS, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, outOffset + i);
        }
        dequantize(data, offset + 2L * bound, out, outOffset + bound, n - bound);
    }

    @Override
    public void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        for (int i = 0; i < n; i++) {
            dst.set(HALF, dstOffset + 2L * i, fromFloat(src[srcOffset + i]));
        }
    }

    @Override
    public boolean canQuantize() {
        return true;
    }
}
