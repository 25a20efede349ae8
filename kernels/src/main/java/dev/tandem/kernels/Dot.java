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
 *   <li>the lanes are summed in lane order ({@link #sumLanes}; from memory, or for {@code L} elements
 *       at once by gathering lane columns, {@link #sumLanesOfBlock}: the same additions);</li>
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
     * Step 3 for {@code L} elements at once: {@code out[outOff + k] = sumLanes(lanes, at + k * L)} for
     * {@code k < L}. Lane column {@code j} of the {@code L × L} block is gathered as one vector and the
     * columns are added in lane order, so each element gets exactly the additions of {@link #sumLanes}.
     */
    public static void sumLanesOfBlock(float[] lanes, int at, float[] out, int outOff) {
        FloatVector acc = FloatVector.fromArray(S, lanes, at, COLUMN, 0);
        for (int j = 1; j < L; j++) {
            acc = acc.add(FloatVector.fromArray(S, lanes, at + j, COLUMN, 0));
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
    public static final int PART_FLOATS = (4 * 24 + 24) * 16;

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

    /** Rows and vectors of the {@link #fourRowsTimesSix} register tile. */
    public static final int TILE_ROWS = 4, TILE_VECTORS = 6;

    /** Whether rows of {@code n} floats fill whole rounds of the four chains, as {@link #fourRowsTimesSix} needs. */
    public static boolean wholeRounds(int n) {
        return S.loopBound(n) % GROUP == 0;
    }

    /**
     * Four weight rows {@code w[w0 + k * wStride ..]} ({@code k < 4}, each {@code n} floats) against the six
     * vectors {@code x[(b + j) * xStride ..]} ({@code j < 6}): {@code out[(b + j) * outStride + outRow + k]}
     * gets exactly {@link #dot} of row k with vector b + j. The register tile is 4 rows × 6 vectors
     * (24 accumulators, one chain at a time): each loaded weight vector feeds six FMAs and each loaded
     * x vector four. Each chain's accumulators are parked in {@code part} (at least
     * {@link #PART_FLOATS} floats) and combined as {@link #dot} does. Needs {@link #wholeRounds}{@code (n)}.
     */
    public static void fourRowsTimesSix(float[] w, int w0, int wStride, int n, float[] x, int xStride, int b,
                                        float[] out, int outRow, int outStride, float[] part) {
        int bound = S.loopBound(n);
        int w1 = w0 + wStride, w2 = w1 + wStride, w3 = w2 + wStride;
        int x0 = b * xStride, x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride, x4 = x3 + xStride, x5 = x4 + xStride;
        for (int c = 0; c < 4; c++) {
            FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00, a15 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a24 = a00, a25 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00, a34 = a00, a35 = a00;
            for (int g = CHUNK * c; g < bound; g += GROUP) {     // chain c: chunk c of every round of four
                for (int p = 0; p < CHUNK; p += L) {
                    int i = g + p;
                    FloatVector u0 = FloatVector.fromArray(S, w, w0 + i), u1 = FloatVector.fromArray(S, w, w1 + i);
                    FloatVector u2 = FloatVector.fromArray(S, w, w2 + i), u3 = FloatVector.fromArray(S, w, w3 + i);
                    FloatVector v0 = FloatVector.fromArray(S, x, x0 + i);
                    a00 = u0.fma(v0, a00); a10 = u1.fma(v0, a10); a20 = u2.fma(v0, a20); a30 = u3.fma(v0, a30);
                    FloatVector v1 = FloatVector.fromArray(S, x, x1 + i);
                    a01 = u0.fma(v1, a01); a11 = u1.fma(v1, a11); a21 = u2.fma(v1, a21); a31 = u3.fma(v1, a31);
                    FloatVector v2 = FloatVector.fromArray(S, x, x2 + i);
                    a02 = u0.fma(v2, a02); a12 = u1.fma(v2, a12); a22 = u2.fma(v2, a22); a32 = u3.fma(v2, a32);
                    FloatVector v3 = FloatVector.fromArray(S, x, x3 + i);
                    a03 = u0.fma(v3, a03); a13 = u1.fma(v3, a13); a23 = u2.fma(v3, a23); a33 = u3.fma(v3, a33);
                    FloatVector v4 = FloatVector.fromArray(S, x, x4 + i);
                    a04 = u0.fma(v4, a04); a14 = u1.fma(v4, a14); a24 = u2.fma(v4, a24); a34 = u3.fma(v4, a34);
                    FloatVector v5 = FloatVector.fromArray(S, x, x5 + i);
                    a05 = u0.fma(v5, a05); a15 = u1.fma(v5, a15); a25 = u2.fma(v5, a25); a35 = u3.fma(v5, a35);
                }
            }
            int pc = c * 24 * L;                            // part[c][row * 6 + vector][lane]
            a00.intoArray(part, pc + 0 * L);
            a01.intoArray(part, pc + 1 * L);
            a02.intoArray(part, pc + 2 * L);
            a03.intoArray(part, pc + 3 * L);
            a04.intoArray(part, pc + 4 * L);
            a05.intoArray(part, pc + 5 * L);
            a10.intoArray(part, pc + 6 * L);
            a11.intoArray(part, pc + 7 * L);
            a12.intoArray(part, pc + 8 * L);
            a13.intoArray(part, pc + 9 * L);
            a14.intoArray(part, pc + 10 * L);
            a15.intoArray(part, pc + 11 * L);
            a20.intoArray(part, pc + 12 * L);
            a21.intoArray(part, pc + 13 * L);
            a22.intoArray(part, pc + 14 * L);
            a23.intoArray(part, pc + 15 * L);
            a24.intoArray(part, pc + 16 * L);
            a25.intoArray(part, pc + 17 * L);
            a30.intoArray(part, pc + 18 * L);
            a31.intoArray(part, pc + 19 * L);
            a32.intoArray(part, pc + 20 * L);
            a33.intoArray(part, pc + 21 * L);
            a34.intoArray(part, pc + 22 * L);
            a35.intoArray(part, pc + 23 * L);
        }
        // element t (row t / 6, vector b + t % 6): chains combined into part[96 + t], then its lanes summed
        int sums = 4 * 24 * L;
        for (int t = 0; t < 24; t++) {
            FloatVector.fromArray(S, part, t * L).add(FloatVector.fromArray(S, part, (24 + t) * L))
                    .add(FloatVector.fromArray(S, part, (48 + t) * L).add(FloatVector.fromArray(S, part, (72 + t) * L)))
                    .intoArray(part, sums + t * L);
        }
        int done = 0;
        for (; done + L <= 24; done += L) {                 // L elements at a time: lane columns gathered and added
            sumLanesOfBlock(part, sums + done * L, part, 0);
            for (int k = 0; k < L; k++) {
                int t = done + k;
                out[(b + t % 6) * outStride + outRow + t / 6] = part[k];
            }
        }
        for (int t = done; t < 24; t++) {
            out[(b + t % 6) * outStride + outRow + t / 6] = sumLanes(part, sums + t * L);
        }
        if (bound < n) {                                    // the scalar tail, after the lanes
            for (int t = 0; t < 24; t++) {
                int o = (b + t % 6) * outStride + outRow + t / 6, wr = w0 + (t / 6) * wStride, xr = (b + t % 6) * xStride;
                float total = out[o];
                for (int i = bound; i < n; i++) {
                    total = Math.fma(w[wr + i], x[xr + i], total);
                }
                out[o] = total;
            }
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
