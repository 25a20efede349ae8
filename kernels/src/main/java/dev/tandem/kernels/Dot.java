package dev.tandem.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * F32 dot products with one fixed reduction order, the same at every batch size:
 * <ol>
 *   <li>the whole vectors ({@code L} floats) are split into <b>four chains</b> by their 16-float
 *       chunk: the vector at index {@code i} feeds chain {@code (i / 16) % 4} (at 512 bits one vector
 *       is one chunk; at 256 bits two vectors follow each other in one chain). Each chain is a
 *       lane-wise fused multiply-add from index 0 up. Four independent chains hide the FMA latency
 *       that a single chain is bound by;</li>
 *   <li>the chains are added lane-wise as {@code (c0 + c1) + (c2 + c3)};</li>
 *   <li>the lanes are summed in lane order ({@link #sumLanes});</li>
 *   <li>the scalar tail (indices past the last whole vector) is fused in index order.</li>
 * </ol>
 * Every variant here (one vector, tiles of tokens, weights from a segment) and every fused format
 * kernel follows that order, so an element's value never depends on which variant or which batch
 * computed it. A fused kernel whose natural unit is 16 weights feeds chunk {@code k} of its row to
 * chain {@code k % 4}.
 */
public final class Dot {
    private static final VectorSpecies<Float> S = Vectors.F;
    private static final int L = Vectors.LANES;
    /** Floats per chunk and chunks per round of the four chains. */
    static final int CHUNK = 16, GROUP = 4 * CHUNK;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Gather indices of one lane column of an {@code L × L} block: {@code 0, L, 2L, ...}. */
    private static final int[] COLUMN = new int[L];
    /** Floats of the per-thread lane scratch: one {@code L × L} block (at most 16 × 16). */
    public static final int LANE_FLOATS = 16 * 16;
    private static final ThreadLocal<float[]> LANES_SCRATCH = ThreadLocal.withInitial(() -> new float[LANE_FLOATS]);

    static {
        for (int k = 0; k < L; k++) {
            COLUMN[k] = k * L;
        }
    }

    private Dot() {}

    /**
     * The lanes of {@code v} added in lane order. Not {@code reduceLanes(ADD)}: its order is
     * unspecified and differs between interpreted and compiled code, which would make a value
     * depend on how warm the JIT was when it was computed.
     */
    public static float sumLanes(FloatVector v) {
        float s = v.lane(0);
        for (int i = 1; i < L; i++) {
            s += v.lane(i);
        }
        return s;
    }

    /** Steps 2 and 3 of the order: {@code sumLanes((c0 + c1) + (c2 + c3))}. */
    public static float combine(FloatVector c0, FloatVector c1, FloatVector c2, FloatVector c3) {
        return sumLanes(c0.add(c1).add(c2.add(c3)));
    }

    /** {@code Σ a[aOff + i] · b[bOff + i]} for {@code i < n}. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float[] lanes = LANES_SCRATCH.get();
        dotLanes(a, aOff, b, bOff, n, lanes, 0);
        float sum = sumLanes(lanes, 0);
        for (int i = S.loopBound(n); i < n; i++) {
            sum = Math.fma(a[aOff + i], b[bOff + i], sum);
        }
        return sum;
    }

    /**
     * Steps 1 and 2 of the order for the whole vectors of {@code a[aOff..aOff+n)} · {@code b[bOff..]}:
     * the four chains combined as {@code (c0 + c1) + (c2 + c3)}, stored in {@code lanes[at .. at + L)}.
     * {@link #sumLanes(float[], int)} of that and the scalar tail complete {@link #dot}.
     */
    public static void dotLanes(float[] a, int aOff, float[] b, int bOff, int n, float[] lanes, int at) {
        int bound = S.loopBound(n);
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        int g = 0;
        for (; g + GROUP <= bound; g += GROUP) {
            for (int p = 0; p < CHUNK; p += L) {
                c0 = FloatVector.fromArray(S, a, aOff + g + p).fma(FloatVector.fromArray(S, b, bOff + g + p), c0);
                c1 = FloatVector.fromArray(S, a, aOff + g + CHUNK + p).fma(FloatVector.fromArray(S, b, bOff + g + CHUNK + p), c1);
                c2 = FloatVector.fromArray(S, a, aOff + g + 2 * CHUNK + p).fma(FloatVector.fromArray(S, b, bOff + g + 2 * CHUNK + p), c2);
                c3 = FloatVector.fromArray(S, a, aOff + g + 3 * CHUNK + p).fma(FloatVector.fromArray(S, b, bOff + g + 3 * CHUNK + p), c3);
            }
        }
        // the last, partial round: chunks 0..2 of it, possibly the last one partial (no chunk 3: it would be whole)
        for (int i = g; i < Math.min(bound, g + CHUNK); i += L) {
            c0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), c0);
        }
        for (int i = g + CHUNK; i < Math.min(bound, g + 2 * CHUNK); i += L) {
            c1 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), c1);
        }
        for (int i = g + 2 * CHUNK; i < bound; i += L) {
            c2 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), c2);
        }
        c0.add(c1).add(c2.add(c3)).intoArray(lanes, at);
    }

    /** Step 3 of the order: the {@code L} floats {@code lanes[at ..]} added in lane order (from memory: no lane extracts). */
    public static float sumLanes(float[] lanes, int at) {
        float s = lanes[at];
        for (int i = 1; i < L; i++) {
            s += lanes[at + i];
        }
        return s;
    }

    /**
     * Step 3 for {@code L} elements at once: {@code out[outOff + k] = sumLanes(lanes, k * L)} for
     * {@code k < L}. Lane column {@code j} of the {@code L × L} block is gathered as one vector and the
     * columns are added in lane order, so each element gets exactly the additions of {@link #sumLanes}.
     */
    public static void sumLanesOfBlock(float[] lanes, float[] out, int outOff) {
        FloatVector acc = FloatVector.fromArray(S, lanes, 0, COLUMN, 0);
        for (int j = 1; j < L; j++) {
            acc = acc.add(FloatVector.fromArray(S, lanes, j, COLUMN, 0));
        }
        acc.intoArray(out, outOff);
    }

    /** Scalar twin of {@link #dot}, accumulated in double: the reference the tests compare against. */
    public static float dotReference(float[] a, int aOff, float[] b, int bOff, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) a[aOff + i] * b[bOff + i];
        }
        return (float) sum;
    }

    /**
     * One weight row {@code w[wOff..wOff+n)} against {@code batch} vectors {@code x[b * xStride + xOff ..]},
     * writing {@code out[b * outStride + outIndex]}: {@link #dot} for each vector. The last row of
     * an odd row count; whole pairs of rows go through {@link #twoRowsTimesBatch}.
     */
    public static void rowTimesBatch(float[] w, int wOff, int n, float[] x, int xOff, int xStride, int batch,
                                     float[] out, int outIndex, int outStride) {
        for (int b = 0; b < batch; b++) {
            out[outIndex + b * outStride] = dot(w, wOff, x, xOff + b * xStride, n);
        }
    }

    /** Floats of the {@code part} scratch that {@link #twoRowsTimesBatch} needs. */
    public static final int PART_FLOATS = (4 * 8 + 1) * 16;

    /**
     * Two weight rows {@code w[w0 ..]}, {@code w[w1 ..]} (each {@code n} floats) against the vectors
     * {@code x[b * xStride ..]} for {@code b} in {@code [bStart, bEnd)}: {@code out[b * outStride + outRow]}
     * and {@code out[.. + 1]} get exactly {@link #dot} of row 0 and row 1 with vector b. The register
     * tile is 2 rows × 4 vectors: each loaded weight vector feeds four FMAs and each loaded x vector
     * two. The tile runs one chain at a time (8 accumulators live, which fits AVX2's 16 registers),
     * parks each chain's accumulators in {@code part} (at least {@link #PART_FLOATS} floats) and
     * combines them as {@link #dot} does. Vectors past a multiple of four, and rows whose whole
     * vectors do not fill whole rounds of the four chains ({@code loopBound(n) % 64 != 0}), go
     * through {@link #dot}.
     */
    public static void twoRowsTimesBatch(float[] w, int w0, int w1, int n, float[] x, int xStride, int bStart, int bEnd,
                                         float[] out, int outRow, int outStride, float[] part) {
        int bound = S.loopBound(n);
        int b = bStart;
        if (bound % GROUP != 0) {
            b = bEnd;                   // a partial round of the chains: every vector through dot below (the same operations)
        }
        for (; b + 4 <= bEnd; b += 4) {
            int xa = b * xStride, xb = xa + xStride, xc = xb + xStride, xd = xc + xStride;
            for (int c = 0; c < 4; c++) {
                FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;   // row 0, vectors a..d
                FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;                    // row 1
                for (int g = 0; g < bound; g += GROUP) {        // chain c: chunk c of every round of four
                    for (int p = 0; p < CHUNK; p += L) {
                        int i = g + CHUNK * c + p;
                        FloatVector u = FloatVector.fromArray(S, w, w0 + i), v = FloatVector.fromArray(S, w, w1 + i);
                        FloatVector x0 = FloatVector.fromArray(S, x, xa + i);
                        a0 = u.fma(x0, a0);
                        b0 = v.fma(x0, b0);
                        FloatVector x1 = FloatVector.fromArray(S, x, xb + i);
                        a1 = u.fma(x1, a1);
                        b1 = v.fma(x1, b1);
                        FloatVector x2 = FloatVector.fromArray(S, x, xc + i);
                        a2 = u.fma(x2, a2);
                        b2 = v.fma(x2, b2);
                        FloatVector x3 = FloatVector.fromArray(S, x, xd + i);
                        a3 = u.fma(x3, a3);
                        b3 = v.fma(x3, b3);
                    }
                }
                int pc = c * 8 * L;                         // part[c][accumulator][lane]
                a0.intoArray(part, pc);
                a1.intoArray(part, pc + L);
                a2.intoArray(part, pc + 2 * L);
                a3.intoArray(part, pc + 3 * L);
                b0.intoArray(part, pc + 4 * L);
                b1.intoArray(part, pc + 5 * L);
                b2.intoArray(part, pc + 6 * L);
                b3.intoArray(part, pc + 7 * L);
            }
            for (int t = 0; t < 8; t++) {                   // accumulator t: row t / 4, vector b + t % 4
                FloatVector sum = FloatVector.fromArray(S, part, t * L).add(FloatVector.fromArray(S, part, (8 + t) * L))
                        .add(FloatVector.fromArray(S, part, (16 + t) * L).add(FloatVector.fromArray(S, part, (24 + t) * L)));
                sum.intoArray(part, 32 * L);                // the lanes summed in lane order, from memory:
                float total = part[32 * L];                 // lane(i) with a loop index is not a register move
                for (int l = 1; l < L; l++) {
                    total += part[32 * L + l];
                }
                int wr = t < 4 ? w0 : w1, xr = (b + t % 4) * xStride;
                for (int i = bound; i < n; i++) {
                    total = Math.fma(w[wr + i], x[xr + i], total);
                }
                out[(b + t % 4) * outStride + outRow + t / 4] = total;
            }
        }
        for (b = bound % GROUP != 0 ? bStart : b; b < bEnd; b++) {
            out[b * outStride + outRow] = dot(w, w0, x, b * xStride, n);
            out[b * outStride + outRow + 1] = dot(w, w1, x, b * xStride, n);
        }
    }

    /** {@code Σ w[i] · x[xOff + i]} with little-endian F32 weights read from a segment at byte {@code wOff}: the order of {@link #dot}. */
    public static float dot(MemorySegment w, long wOff, float[] x, int xOff, int n) {
        int bound = S.loopBound(n);
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        int g = 0;
        for (; g + GROUP <= bound; g += GROUP) {
            for (int p = 0; p < CHUNK; p += L) {
                c0 = FloatVector.fromMemorySegment(S, w, wOff + 4L * (g + p), LE).fma(FloatVector.fromArray(S, x, xOff + g + p), c0);
                c1 = FloatVector.fromMemorySegment(S, w, wOff + 4L * (g + CHUNK + p), LE).fma(FloatVector.fromArray(S, x, xOff + g + CHUNK + p), c1);
                c2 = FloatVector.fromMemorySegment(S, w, wOff + 4L * (g + 2 * CHUNK + p), LE).fma(FloatVector.fromArray(S, x, xOff + g + 2 * CHUNK + p), c2);
                c3 = FloatVector.fromMemorySegment(S, w, wOff + 4L * (g + 3 * CHUNK + p), LE).fma(FloatVector.fromArray(S, x, xOff + g + 3 * CHUNK + p), c3);
            }
        }
        for (int i = g; i < Math.min(bound, g + CHUNK); i += L) {
            c0 = FloatVector.fromMemorySegment(S, w, wOff + 4L * i, LE).fma(FloatVector.fromArray(S, x, xOff + i), c0);
        }
        for (int i = g + CHUNK; i < Math.min(bound, g + 2 * CHUNK); i += L) {
            c1 = FloatVector.fromMemorySegment(S, w, wOff + 4L * i, LE).fma(FloatVector.fromArray(S, x, xOff + i), c1);
        }
        for (int i = g + 2 * CHUNK; i < bound; i += L) {
            c2 = FloatVector.fromMemorySegment(S, w, wOff + 4L * i, LE).fma(FloatVector.fromArray(S, x, xOff + i), c2);
        }
        float sum = combine(c0, c1, c2, c3);
        for (int i = bound; i < n; i++) {
            sum = Math.fma(w.get(F32.LAYOUT, wOff + 4L * i), x[xOff + i], sum);
        }
        return sum;
    }
}
