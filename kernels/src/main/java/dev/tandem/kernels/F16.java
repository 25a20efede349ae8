package dev.tandem.kernels;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * F16: IEEE binary16, one weight per 2-byte little-endian element (16 bits per weight).
 * <pre>
 *   f16  w        weight = (float) w   (exact: every binary16 value is a float)
 * </pre>
 * Dot and matmul decode a row into the F32 scratch and reduce through {@link Dot} (see {@link BlockFormat}).
 */
public final class F16 extends BlockFormat {
    public static final F16 INSTANCE = new F16();
    public static final int BLOCK = 1;
    public static final int BLOCK_BYTES = 2;

    /** Shorts and ints with as many lanes as {@link Vectors#F}: half its width, and the same width. */
    static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(Vectors.F.vectorBitSize() / 2));
    static final VectorSpecies<Integer> INTS = Vectors.F.withLanes(int.class);
    private static final int L = Vectors.LANES;

    static {
        assert BLOCK_BYTES == GgmlType.F16.blockBytes && BLOCK == GgmlType.F16.blockSize;
    }

    private F16() {}

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public void dequantize(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = Float.float16ToFloat(data.get(HALF, offset + 2L * i));
        }
    }

    /**
     * Bit arithmetic on {@link #INTS}: {@code (h & 0x7fff) << 13} read as a float and multiplied by
     * 2^112 rebiases the exponent exactly (binary16 subnormals become float normals); exponent 31
     * (inf, NaN) maps to 255 with the significand kept; the sign is put back last.
     */
    @Override
    protected void dequantizeFast(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        int bound = n - n % L;
        for (int i = 0; i < bound; i += L) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(SHORTS, data, offset + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, INTS, 0);          // sign-extended
            IntVector mag = h.and(0x7fff);
            IntVector shifted = mag.lanewise(VectorOperators.LSHL, 13);
            IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
            VectorMask<Integer> special = mag.compare(VectorOperators.GE, 0x7c00);
            IntVector bits = finite.blend(shifted.or(0x7f800000), special).or(h.and(0x80000000));
            bits.reinterpretAsFloats().intoArray(out, outOffset + i);
        }
        dequantize(data, offset + 2L * bound, out, outOffset + bound, n - bound);
    }

    /**
     * {@code dst[dstOff ..+n) = (float) src[srcOff ..+n)}: binary16 bits widened exactly (the bit
     * arithmetic of {@link #dequantizeFast}, read from a {@code short[]}), e.g. an F16 KV cache row.
     */
    public static void widen(short[] src, int srcOff, float[] dst, int dstOff, int n) {
        int bound = n - n % L;
        for (int i = 0; i < bound; i += L) {
            IntVector h = (IntVector) ShortVector.fromArray(SHORTS, src, srcOff + i)
                    .convertShape(VectorOperators.S2I, INTS, 0);          // sign-extended
            IntVector mag = h.and(0x7fff);
            IntVector shifted = mag.lanewise(VectorOperators.LSHL, 13);
            IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
            VectorMask<Integer> special = mag.compare(VectorOperators.GE, 0x7c00);
            IntVector bits = finite.blend(shifted.or(0x7f800000), special).or(h.and(0x80000000));
            bits.reinterpretAsFloats().intoArray(dst, dstOff + i);
        }
        for (int i = bound; i < n; i++) {
            dst[dstOff + i] = Float.float16ToFloat(src[srcOff + i]);
        }
    }

    /** Round to nearest even, like ggml's {@code GGML_FP32_TO_FP16} (F16C {@code vcvtps2ph}, mode 0). */
    @Override
    public void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        for (int i = 0; i < n; i++) {
            dst.set(HALF, dstOffset + 2L * i, Float.floatToFloat16(src[srcOffset + i]));
        }
    }

    @Override
    public boolean canQuantize() {
        return true;
    }
}
