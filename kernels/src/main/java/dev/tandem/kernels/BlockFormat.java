package dev.tandem.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Shared kernel structure for block-quantized formats: a weight row is dequantized once into a
 * per-thread F32 scratch row, which is then multiplied with every vector of the batch through
 * {@link Dot}. The row's bytes are read once per matmul however large the batch; the reduction
 * order is that of {@link Dot}, so results are batch-invariant. Subclasses define the byte layout
 * and may override {@link #dequantizeFast} with a vectorized decoder that produces the same floats.
 *
 * <p>Vector code in the format classes is written out in the loop that uses it, never behind a
 * helper method that takes or returns a vector: C2 does not always inline such a helper (its
 * compiled size passes the inlining limits once it has been compiled on its own), and then every
 * vector crossing the call is boxed on the heap. Q4_K's dot ran 5x slower for that reason,
 * allocating 16 MB per 2048×2048 matrix-vector product.
 */
public abstract class BlockFormat implements Format {
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[4096]);
    /** Unaligned little-endian 16-bit value: every f16 scale and every F16/BF16 weight in a GGUF file. */
    protected static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    protected static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Sixteen bytes: the unit the vectorized decoders load (16 is a multiple of every float lane count). */
    protected static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /**
     * Ints with as many lanes as {@link Vectors#F}. Decoders widen the 16 loaded bytes to ints
     * ({@code ZERO_EXTEND_B2I}, part by part) and pick bits in the int lanes: x86 has no byte shift,
     * so byte-lane shifts cost several instructions each; int shifts cost one (25 % faster Q4_0 dot).
     */
    protected static final VectorSpecies<Integer> I = Vectors.F.withLanes(int.class);

    /** Decodes {@code n} weights; must produce exactly the floats {@link #dequantize} produces. */
    protected void dequantizeFast(MemorySegment data, long offset, float[] out, int outOffset, int n) {
        dequantize(data, offset, out, outOffset, n);
    }

    /** A per-thread scratch row of at least {@code n} floats (allocated only when it must grow). */
    protected static float[] scratch(int n) {
        float[] s = SCRATCH.get();
        if (s.length < n) {
            s = new float[Math.max(n, 2 * s.length)];
            SCRATCH.set(s);
        }
        return s;
    }

    @Override
    public float dot(MemorySegment data, long offset, float[] x, int xOffset, int n) {
        float[] w = scratch(n);
        dequantizeFast(data, offset, w, 0, n);
        return Dot.dot(w, 0, x, xOffset, n);
    }

    /**
     * One vector: each row through {@link #dot}, which a format may fuse (decode a chunk into
     * registers and multiply at once, no scratch row). Several vectors: each row decoded once into
     * scratch and applied to all of them. A fused {@code dot} must perform the same operations in
     * the same order as decoding to scratch and calling {@link Dot#dot} — the batch-invariance
     * tests compare the two paths bitwise.
     */
    @Override
    public void matmul(MemorySegment data, long base, int cols, int rowStart, int rowEnd,
                       float[] x, int batch, float[] out, int outStride) {
        long rowBytes = rowBytes(cols);
        if (batch == 1) {
            for (int r = rowStart; r < rowEnd; r++) {
                out[r] = dot(data, base + r * rowBytes, x, 0, cols);
            }
            return;
        }
        float[] w = scratch(cols);
        for (int r = rowStart; r < rowEnd; r++) {
            dequantizeFast(data, base + r * rowBytes, w, 0, cols);
            Dot.rowTimesBatch(w, 0, cols, x, 0, cols, batch, out, r, outStride);
        }
    }

    /** Loads 16 bytes at byte {@code offset}. */
    protected static ByteVector load16(MemorySegment data, long offset) {
        return ByteVector.fromMemorySegment(B16, data, offset, LE);
    }

    /** Checks that {@code n} is a whole number of blocks. */
    protected final void checkBlocks(int n) {
        int bs = type().blockSize;
        if (n % bs != 0) {
            throw new IllegalArgumentException(n + " is not a multiple of the " + type() + " block size " + bs);
        }
    }
}
