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
    private static final ThreadLocal<float[]> PART = ThreadLocal.withInitial(() -> new float[Dot.PART_FLOATS]);
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[Dot.LANE_FLOATS]);
    /** Floats in a vector of {@link Vectors#F}. */
    protected static final int L = Vectors.LANES;
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

    /** The per-thread chain-partials scratch of {@link Dot#twoRowsTimesBatch}. */
    static float[] part() {
        return PART.get();
    }

    /** The per-thread {@code L × L} lane block of the batch-1 path and of {@link #dot}. */
    static float[] lanes() {
        return LANES.get();
    }

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

    /**
     * {@link Dot#dot} of the decoded row with {@code x}, through {@link #dotLanes} when {@code n} is a
     * whole number of vectors (always so for the block-quantized formats: their blocks are 32 or 256).
     */
    @Override
    public float dot(MemorySegment data, long offset, float[] x, int xOffset, int n) {
        if (n % L != 0) {
            float[] w = scratch(n);
            dequantizeFast(data, offset, w, 0, n);
            return Dot.dot(w, 0, x, xOffset, n);
        }
        float[] lanes = lanes();
        dotLanes(data, offset, x, xOffset, n, lanes, 0);
        return Dot.sumLanes(lanes, 0);
    }

    /**
     * Steps 1 and 2 of {@link Dot}'s order for one row of {@code n} weights ({@code n % L == 0}, so
     * there is no scalar tail): the four chains combined as {@code (c0 + c1) + (c2 + c3)}, stored in
     * {@code lanes[at .. at + L)}. Here: the row decoded to scratch, then {@link Dot#dotLanes}. A
     * format may fuse it (decode a chunk into registers and multiply at once, no scratch row); a
     * fused version must perform the same operations in the same order — the batch-invariance
     * tests compare the two bitwise.
     */
    protected void dotLanes(MemorySegment data, long offset, float[] x, int xOffset, int n, float[] lanes, int at) {
        float[] w = scratch(n);
        dequantizeFast(data, offset, w, 0, n);
        Dot.dotLanes(w, 0, x, xOffset, n, lanes, at);
    }

    /**
     * One vector: each row through {@link #dotLanes}, which a format may fuse (decode a chunk into
     * registers and multiply at once, no scratch row), the lanes of 16 rows summed together
     * ({@code matvec}). Several vectors: rows decoded a block at a time into scratch and applied to
     * all vectors in 4-row × 6-vector register tiles ({@link Dot#fourRowsTimesSix}), the rest in
     * 2-row × 4-vector tiles ({@link Dot#twoRowsTimesBatch}). A fused {@code dotLanes} must perform
     * the same operations in the same order as decoding to scratch and calling {@link Dot#dotLanes} —
     * the batch-invariance tests compare the two paths bitwise.
     */
    @Override
    public void matmul(MemorySegment data, long base, int cols, int rowStart, int rowEnd,
                       float[] x, int batch, float[] out, int outStride) {
        long rowBytes = rowBytes(cols);
        if (batch == 1) {
            matvec(data, base, rowBytes, cols, rowStart, rowEnd, x, out);
            return;
        }
        // Rows in blocks of 32 decoded to scratch (in L2), met by the vectors in 4-row × 6-vector register tiles
        // (Dot.fourRowsTimesSix). Rows of up to 1024 floats: six vectors at a time walk all the block's row
        // quads, the six vectors (≤ 24 KB) staying in L1. Longer rows: one row quad at a time meets all the
        // vectors, so the quad is what stays close (a 4 × 6 tile's rows and vectors no longer fit L1 together;
        // this order measured 1.1-1.3x the vector-major one at 2048 and 8192 columns). Vectors past a multiple
        // of six, rows past a multiple of four, rows that do not fill whole rounds of the chains, and batches
        // of fewer than six vectors go through 2-row × 4-vector tiles (Dot.twoRowsTimesBatch).
        boolean tiles = Dot.wholeRounds(cols) && batch >= Dot.TILE_VECTORS;
        boolean shortRows = cols <= 1024;
        // Without 4 × 6 tiles (fewer than six vectors: a decode batch) the blocking is the one the 2 × 4 tiles
        // were measured with: blocks of at most 16 rows and 128 KB.
        int block = tiles ? 32 : Math.max(2, Math.min(16, (32768 / cols) & ~1));
        float[] w = scratch(block * cols);               // [block][cols] decoded rows
        float[] part = part();
        int vectors = tiles ? batch - batch % Dot.TILE_VECTORS : 0;   // [0, vectors): 4 × 6 tiles
        for (int r0 = rowStart; r0 < rowEnd; r0 += block) {
            int r1 = Math.min(rowEnd, r0 + block);
            for (int r = r0; r < r1; r++) {
                dequantizeFast(data, base + r * rowBytes, w, (r - r0) * cols, cols);
            }
            int quads = r0 + (r1 - r0) / Dot.TILE_ROWS * Dot.TILE_ROWS;
            if (shortRows) {
                for (int b = 0; b < vectors; b += Dot.TILE_VECTORS) {
                    for (int r = r0; r < quads; r += Dot.TILE_ROWS) {
                        Dot.fourRowsTimesSix(w, (r - r0) * cols, cols, cols, x, cols, b, out, r, outStride, part);
                    }
                }
            } else {
                for (int r = r0; r < quads; r += Dot.TILE_ROWS) {
                    for (int b = 0; b < vectors; b += Dot.TILE_VECTORS) {
                        Dot.fourRowsTimesSix(w, (r - r0) * cols, cols, cols, x, cols, b, out, r, outStride, part);
                    }
                }
            }
            for (int b = 0; b < vectors; b += Dot.TILE_VECTORS) {
                pairs(w, r0, quads, r1, cols, x, b, b + Dot.TILE_VECTORS, out, outStride, part);
            }
            for (int b = vectors; b < batch; b += 4) {
                pairs(w, r0, r0, r1, cols, x, b, Math.min(batch, b + 4), out, outStride, part);
            }
        }
    }

    /** Decoded rows {@code [r, r1)} of the block starting at row {@code r0}, vectors {@code [b, bEnd)}: 2-row tiles, then a last odd row. */
    static void pairs(float[] w, int r0, int r, int r1, int cols, float[] x, int b, int bEnd, float[] out, int outStride, float[] part) {
        for (; r + 2 <= r1; r += 2) {
            Dot.twoRowsTimesBatch(w, (r - r0) * cols, (r + 1 - r0) * cols, cols, x, cols, b, bEnd, out, r, outStride, part);
        }
        if (r < r1) {
            for (int t = b; t < bEnd; t++) {
                out[t * outStride + r] = Dot.dot(w, (r - r0) * cols, x, t * cols, cols);
            }
        }
    }

    /**
     * Batch 1: each row's combined chains ({@link #dotLanes}) go into an {@code L × L} block, and
     * every {@code L} rows the block's lanes are summed for all {@code L} rows at once
     * ({@link Dot#sumLanesOfBlock}): the additions of {@link Dot#sumLanes}, in vectors. Summing lanes
     * from memory instead of extracting them from a register made the 768 × 768 Q8_0 product 1.36x
     * faster; summing 16 rows at once added 2-4 %.
     */
    private void matvec(MemorySegment data, long base, long rowBytes, int cols, int rowStart, int rowEnd, float[] x, float[] out) {
        if (cols % L != 0) {
            for (int r = rowStart; r < rowEnd; r++) {
                out[r] = dot(data, base + r * rowBytes, x, 0, cols);
            }
            return;
        }
        float[] lanes = lanes();                          // [L rows][L lanes]
        int r = rowStart;
        for (; r + L <= rowEnd; r += L) {
            for (int k = 0; k < L; k++) {
                dotLanes(data, base + (r + k) * rowBytes, x, 0, cols, lanes, k * L);
            }
            Dot.sumLanesOfBlock(lanes, 0, out, r);
        }
        for (; r < rowEnd; r++) {
            dotLanes(data, base + r * rowBytes, x, 0, cols, lanes, 0);
            out[r] = Dot.sumLanes(lanes, 0);
        }
    }

    /** Checks that {@code n} is a whole number of blocks. */
    protected final void checkBlocks(int n) {
        int bs = type().blockSize;
        if (n % bs != 0) {
            throw new IllegalArgumentException(n + " is not a multiple of the " + type() + " block size " + bs);
        }
    }
}
