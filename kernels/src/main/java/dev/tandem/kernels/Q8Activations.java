package dev.tandem.kernels;

import dev.tandem.kernels.x86.IntDot;
import dev.tandem.kernels.x86.KQuantTile;
import dev.tandem.kernels.x86.PackedDot;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Activation vectors quantized to 8-bit blocks of 32, for the integer kernels ({@link IntKernels}):
 * per block {@code dx = max|x| / 127} and {@code q[i] = round(x[i] / dx)} (halves away from zero),
 * llama.cpp's Q8_0 quantization of activations except that {@code dx} stays a float. Each vector
 * is quantized on its own, so a token's quantization never depends on the batch it is in.
 *
 * <p>Layout of one vector of {@code blocks} blocks, in native memory (the layout the native
 * kernels read): {@code 32·blocks} bytes {@code q}; then per block 8 copies of {@code dx} (float);
 * then per block 8 ints, lane {@code l} = {@code −8 · (q[4l] + q[4l+1] + q[4l+2] + q[4l+3])} (Q4_0's
 * offset of 8, taken off by starting the lane's integer sum there); then per block the lane sums
 * times −128 (Q8_0's offset, when its weights are read as unsigned bytes).
 *
 * <p>Where the packed kernels run ({@link PackedDot}), also a block-major copy after all vectors
 * (and pairs): per block, per vector, {@value PackedDot#ACT_ENTRY} bytes — the 32 quantized bytes,
 * {@code dx} at 32, {@code −8 · Σq} at 36, {@code −128 · Σq} at 40, {@code dx · float(−Σq)} at 44,
 * {@code −32 · Σq} of the first and second 16 at 48 and 52 — so that the vectors a kernel call takes sit
 * side by side, one pointer and fixed displacements away.
 */
public final class Q8Activations {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final VectorSpecies<Float> F = Vectors.F;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final int L = Vectors.LANES;
    private MemorySegment seg = MemorySegment.NULL;
    private byte[] pq = new byte[0];
    private float[] pdx;
    private int[] pn8, pn128;
    private int blocks;
    private int count;
    /** One vector's quantization on the way to native memory: this object's own, and each pool thread's. */
    private static final class Scratch {
        byte[] q = new byte[0];
        int[] qi, sums, sums128;
        float[] scales;
        final byte[] entry = new byte[PackedDot.ACT_ENTRY];
        final MemorySegment entries = MemorySegment.ofArray(entry);

        void fit(int cols) {
            if (q.length < cols) {
                q = new byte[cols];
                qi = new int[cols];
                scales = new float[cols / 4];
                sums = new int[cols / 4];
                sums128 = new int[cols / 4];
            }
        }
    }
    private final Scratch own = new Scratch();
    private static final ThreadLocal<Scratch> WORKER = ThreadLocal.withInitial(Scratch::new);
    /** Batches from this size on are quantized by the pool's threads, when a pool is given (prompt chunks). */
    static final int PARALLEL_FROM = 16;
    private final Parallel.RangeTask vectorsTask = this::quantizeVectors;
    private float[] x;

    /** Batches from this size on also get the paired layout ({@link #pairAddress}), where a 512-bit tile reads it. */
    static final int PAIRED_FROM = 8;
    private static final boolean PAIRS_READ = IntDot.wideTiles() || KQuantTile.wideAvailable();
    private static final boolean BLOCK_MAJOR = PackedDot.available();
    private long blockMajorBase;
    private boolean paired;
    /** Whether the row-major layout was written: not when only the packed kernels read these activations. */
    private boolean rowMajor = true;

    /** Bytes of one pair of vectors in the paired layout. */
    static long pairStride(int blocks) {
        return 256L * blocks;
    }

    /** Bytes of one quantized vector of {@code blocks} blocks. */
    static long stride(int blocks) {
        return 128L * blocks;
    }

    /** Quantizes {@code batch} vectors {@code x[b · cols ..]} of {@code cols} floats ({@code cols % 32 == 0}). */
    public void quantize(float[] x, int batch, int cols) {
        quantize(x, batch, cols, false);
    }

    /**
     * As {@link #quantize(float[], int, int)}; {@code packedOnly}: only the packed kernels will read these
     * activations (every integer-path matrix of the product is {@code IntKernels.Packed}), so only the
     * block-major copy is written: the row-major layout and the paired one are not ({@link #address},
     * {@link #pairAddress} then throw; {@link #q} and {@link #scale} read the block-major copy).
     */
    public void quantize(float[] x, int batch, int cols, boolean packedOnly) {
        quantize(null, x, batch, cols, packedOnly);
    }

    /**
     * As {@link #quantize(float[], int, int, boolean)}, the vectors split across {@code pool}'s threads
     * when there are {@link #PARALLEL_FROM} or more and no paired layout is built (each vector is
     * quantized on its own, so who does it changes no byte); {@code pool} null: in the calling thread.
     */
    public void quantize(Parallel pool, float[] x, int batch, int cols, boolean packedOnly) {
        if (cols % 32 != 0 || cols == 0) {
            throw new IllegalArgumentException(cols + " is not a positive multiple of 32");
        }
        blocks = cols / 32;
        count = batch;
        rowMajor = !packedOnly || !BLOCK_MAJOR;
        boolean paired = batch >= PAIRED_FROM && PAIRS_READ && rowMajor;
        this.paired = paired;
        blockMajorBase = (rowMajor ? stride(blocks) * batch : 0) + (paired ? pairStride(blocks) * (batch / 2) : 0);
        long need = blockMajorBase + (BLOCK_MAJOR ? (long) PackedDot.ACT_ENTRY * blocks * batch : 0);
        if (seg.byteSize() < need) {
            seg = Arena.ofAuto().allocate(Math.max(need, 2 * seg.byteSize()), 64);
        }
        if (paired && pq.length < 2 * cols) {
            pq = new byte[2 * cols];
            pdx = new float[16 * blocks];
            pn8 = new int[16 * blocks];
            pn128 = new int[16 * blocks];
        }
        if (pool != null && pool.threads() > 1 && batch >= PARALLEL_FROM && !paired) {
            this.x = x;
            pool.forRange(batch, 1, vectorsTask);
            this.x = null;
            return;
        }
        own.fit(cols);
        for (int b = 0; b < batch; b++) {
            one(own, x, b);
            if (paired && b < batch / 2 * 2) {
                pair(own, b);
            }
        }
    }

    /** Vectors {@code [from, to)} of {@link #x}, with this thread's scratch (the pool's part of {@link #quantize}). */
    private void quantizeVectors(int from, int to) {
        Scratch sc = WORKER.get();
        sc.fit(32 * blocks);
        for (int b = from; b < to; b++) {
            one(sc, x, b);
        }
    }

    /** Vector {@code b} quantized into {@code sc}, then into the row-major layout (when written) and the block-major copy. */
    private void one(Scratch sc, float[] x, int b) {
        int cols = 32 * blocks;
        quantizeOne(sc, x, b * cols);
        if (rowMajor) {
            long base = stride(blocks) * b;
            MemorySegment.copy(sc.q, 0, seg, ValueLayout.JAVA_BYTE, base, cols);
            MemorySegment.copy(sc.scales, 0, seg, FLOAT, base + 32L * blocks, 8 * blocks);
            MemorySegment.copy(sc.sums, 0, seg, INT, base + 64L * blocks, 8 * blocks);
            MemorySegment.copy(sc.sums128, 0, seg, INT, base + 96L * blocks, 8 * blocks);
        }
        if (BLOCK_MAJOR) {
            blockMajor(sc, b);
        }
    }

    /** Vector {@code b}'s entries in the block-major copy. */
    private void blockMajor(Scratch sc, int b) {
        byte[] q = sc.q;
        MemorySegment entries = sc.entries;
        for (int k = 0; k < blocks; k++) {
            System.arraycopy(q, 32 * k, sc.entry, 0, 32);
            entries.set(FLOAT, 32, sc.scales[8 * k]);
            int low = 0, high = 0;
            for (int i = 0; i < 16; i++) {
                low += q[32 * k + i];
                high += q[32 * k + 16 + i];
            }
            int sum = low + high;
            entries.set(INT, 36, -8 * sum);
            entries.set(INT, 40, -128 * sum);
            entries.set(FLOAT, 44, sc.scales[8 * k] * (float) -sum);
            entries.set(INT, 48, -32 * low);
            entries.set(INT, 52, -32 * high);
            MemorySegment.copy(entries, 0, seg, entry(b, k), PackedDot.ACT_ENTRY);
        }
    }

    /** Native address of vector {@code token}'s block 0 in the block-major copy (block k: + k · {@link #blockMajorStride}). */
    public long blockMajorAddress(int token) {
        if (!BLOCK_MAJOR) {
            throw new IllegalStateException("no block-major copy: " + PackedDot.UNAVAILABLE);
        }
        return seg.address() + blockMajorBase + (long) PackedDot.ACT_ENTRY * token;
    }

    /** Bytes from one block to the next in the block-major copy. */
    public long blockMajorStride() {
        return (long) PackedDot.ACT_ENTRY * count;
    }

    /**
     * Vector {@code b} into half {@code b % 2} of its pair in the paired layout (for 512-bit tiles: one
     * register holds the same block of both vectors of a pair): per pair, per block, 64 bytes of
     * quants (the first vector's 32, then the second's), then 64 of scales, 64 of lane sums × −8,
     * 64 of lane sums × −128. The pair is copied out once its second vector is in.
     */
    private void pair(Scratch sc, int b) {
        int half = b & 1;
        for (int k = 0; k < blocks; k++) {
            System.arraycopy(sc.q, 32 * k, pq, 64 * k + 32 * half, 32);
            System.arraycopy(sc.scales, 8 * k, pdx, 16 * k + 8 * half, 8);
            System.arraycopy(sc.sums, 8 * k, pn8, 16 * k + 8 * half, 8);
            System.arraycopy(sc.sums128, 8 * k, pn128, 16 * k + 8 * half, 8);
        }
        if (half == 1) {
            long base = pairAddress(b / 2) - seg.address();
            MemorySegment.copy(pq, 0, seg, ValueLayout.JAVA_BYTE, base, 64 * blocks);
            MemorySegment.copy(pdx, 0, seg, FLOAT, base + 64L * blocks, 16 * blocks);
            MemorySegment.copy(pn8, 0, seg, INT, base + 128L * blocks, 16 * blocks);
            MemorySegment.copy(pn128, 0, seg, INT, base + 192L * blocks, 16 * blocks);
        }
    }

    /** Native address of pair {@code pair} (vectors {@code 2·pair}, {@code 2·pair + 1}) in the paired layout; batches of at least {@link #PAIRED_FROM}. */
    public long pairAddress(int pair) {
        if (!paired || pair >= count / 2) {
            throw new IndexOutOfBoundsException("no pair " + pair + " in a batch of " + count);
        }
        return seg.address() + stride(blocks) * count + pairStride(blocks) * pair;
    }

    /** One vector into the heap arrays: the largest magnitude and the rounding in vectors, the bytes and sums after. */
    private void quantizeOne(Scratch sc, float[] x, int xOff) {
        byte[] q = sc.q;
        int[] qi = sc.qi, sums = sc.sums, sums128 = sc.sums128;
        float[] scales = sc.scales;
        for (int k = 0; k < blocks; k++) {
            int s = xOff + 32 * k;
            FloatVector m = FloatVector.fromArray(F, x, s).abs();
            for (int p = L; p < 32; p += L) {
                m = m.max(FloatVector.fromArray(F, x, s + p).abs());
            }
            float amax = m.reduceLanes(VectorOperators.MAX);      // a maximum: exact in any order
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            for (int p = 0; p < 32; p += L) {
                // C's roundf(v): |v| + 0.5 truncated, with v's sign (the float add and the truncation of Q8_0.roundHalfAway)
                FloatVector v = FloatVector.fromArray(F, x, s + p).mul(id);
                IntVector r = (IntVector) v.abs().add(0.5f).convert(VectorOperators.F2I, 0);
                r.min(127).lanewise(VectorOperators.NEG, v.lt(0f).cast(I)).intoArray(qi, 32 * k + p);
            }
            for (int l = 0; l < 8; l++) {
                int sum = 0;
                for (int j = 4 * l; j < 4 * l + 4; j++) {
                    int v = qi[32 * k + j];
                    q[32 * k + j] = (byte) v;
                    sum += v;
                }
                scales[8 * k + l] = d;
                sums[8 * k + l] = -8 * sum;
                sums128[8 * k + l] = -128 * sum;
            }
        }
    }

    /** Blocks per vector. */
    public int blocks() {
        return blocks;
    }

    /** Vectors quantized. */
    public int count() {
        return count;
    }

    /** Native address of vector {@code token} in the row-major layout. */
    public long address(int token) {
        requireRowMajor();
        return seg.address() + stride(blocks) * token;
    }

    /** Quantized element {@code i} of vector {@code token}. */
    public int q(int token, int i) {
        return rowMajor ? seg.get(ValueLayout.JAVA_BYTE, stride(blocks) * token + i)
                : seg.get(ValueLayout.JAVA_BYTE, entry(token, i / 32) + i % 32);
    }

    /** Scale of block {@code k} of vector {@code token}. */
    public float scale(int token, int k) {
        return rowMajor ? seg.get(FLOAT, stride(blocks) * token + 32L * blocks + 32L * k) : seg.get(FLOAT, entry(token, k) + 32);
    }

    /** Offset of vector {@code token}'s block {@code k} in the block-major copy. */
    private long entry(int token, int k) {
        return blockMajorBase + (long) PackedDot.ACT_ENTRY * ((long) k * count + token);
    }

    private void requireRowMajor() {
        if (!rowMajor) {
            throw new IllegalStateException("these activations were quantized for the packed kernels only");
        }
    }

    /** Pair {@code pair}'s lane sums × −8 in the paired layout (per block the first vector's 8, then the second's) into {@code dst}. */
    void pairLaneSums8(int pair, int[] dst) {
        MemorySegment.copy(seg, INT, pairAddress(pair) - seg.address() + 128L * blocks, dst, 0, 16 * blocks);
    }

    /** The stored lane sum {@code −8 · Σ q} of lane {@code l} of block {@code k} of vector {@code token}. */
    int laneSum8(int token, int k, int l) {
        requireRowMajor();
        return seg.get(INT, stride(blocks) * token + 64L * blocks + 32L * k + 4L * l);
    }
}
