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
        float sum = combine(c0, c1, c2, c3);
        for (int i = bound; i < n; i++) {
            sum = Math.fma(a[aOff + i], b[bOff + i], sum);
        }
        return sum;
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
     * writing {@code out[b * outStride + outIndex]}: exactly {@link #dot} for each vector. Four
     * vectors at a time share each loaded weight vector.
     */
    public static void rowTimesBatch(float[] w, int wOff, int n, float[] x, int xOff, int xStride, int batch,
                                     float[] out, int outIndex, int outStride) {
        int b = 0;
        for (; b + 4 <= batch; b += 4) {
            dot4(w, wOff, n, x, xOff + b * xStride, xStride, out, outIndex + b * outStride, outStride);
        }
        for (; b < batch; b++) {
            out[outIndex + b * outStride] = dot(w, wOff, x, xOff + b * xStride, n);
        }
    }

    /**
     * Four vectors: one chain at a time for all four (four accumulators live, not sixteen), the
     * chain's partial sums kept in {@code part[chain][vector]} lanes until all four chains are done.
     */
    private static void dot4(float[] w, int wOff, int n, float[] x, int x0, int xStride,
                             float[] out, int o0, int outStride) {
        int x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride;
        int bound = S.loopBound(n);
        FloatVector z = FloatVector.zero(S);
        // chain c: chunks starting at c * CHUNK, every GROUP floats
        FloatVector p00 = z, p01 = z, p02 = z, p03 = z;   // chain 0, vectors 0..3
        FloatVector p10 = z, p11 = z, p12 = z, p13 = z;   // chain 1
        for (int g = 0; g < bound; g += GROUP) {
            for (int i = g; i < Math.min(bound, g + CHUNK); i += L) {
                FloatVector wv = FloatVector.fromArray(S, w, wOff + i);
                p00 = wv.fma(FloatVector.fromArray(S, x, x0 + i), p00);
                p01 = wv.fma(FloatVector.fromArray(S, x, x1 + i), p01);
                p02 = wv.fma(FloatVector.fromArray(S, x, x2 + i), p02);
                p03 = wv.fma(FloatVector.fromArray(S, x, x3 + i), p03);
            }
            for (int i = g + CHUNK; i < Math.min(bound, g + 2 * CHUNK); i += L) {
                FloatVector wv = FloatVector.fromArray(S, w, wOff + i);
                p10 = wv.fma(FloatVector.fromArray(S, x, x0 + i), p10);
                p11 = wv.fma(FloatVector.fromArray(S, x, x1 + i), p11);
                p12 = wv.fma(FloatVector.fromArray(S, x, x2 + i), p12);
                p13 = wv.fma(FloatVector.fromArray(S, x, x3 + i), p13);
            }
        }
        FloatVector p20 = z, p21 = z, p22 = z, p23 = z;   // chain 2
        FloatVector p30 = z, p31 = z, p32 = z, p33 = z;   // chain 3
        for (int g = 0; g < bound; g += GROUP) {
            for (int i = g + 2 * CHUNK; i < Math.min(bound, g + 3 * CHUNK); i += L) {
                FloatVector wv = FloatVector.fromArray(S, w, wOff + i);
                p20 = wv.fma(FloatVector.fromArray(S, x, x0 + i), p20);
                p21 = wv.fma(FloatVector.fromArray(S, x, x1 + i), p21);
                p22 = wv.fma(FloatVector.fromArray(S, x, x2 + i), p22);
                p23 = wv.fma(FloatVector.fromArray(S, x, x3 + i), p23);
            }
            for (int i = g + 3 * CHUNK; i < Math.min(bound, g + GROUP); i += L) {
                FloatVector wv = FloatVector.fromArray(S, w, wOff + i);
                p30 = wv.fma(FloatVector.fromArray(S, x, x0 + i), p30);
                p31 = wv.fma(FloatVector.fromArray(S, x, x1 + i), p31);
                p32 = wv.fma(FloatVector.fromArray(S, x, x2 + i), p32);
                p33 = wv.fma(FloatVector.fromArray(S, x, x3 + i), p33);
            }
        }
        float s0 = combine(p00, p10, p20, p30), s1 = combine(p01, p11, p21, p31);
        float s2 = combine(p02, p12, p22, p32), s3 = combine(p03, p13, p23, p33);
        for (int i = bound; i < n; i++) {
            float wi = w[wOff + i];
            s0 = Math.fma(wi, x[x0 + i], s0);
            s1 = Math.fma(wi, x[x1 + i], s1);
            s2 = Math.fma(wi, x[x2 + i], s2);
            s3 = Math.fma(wi, x[x3 + i], s3);
        }
        out[o0] = s0;
        out[o0 + outStride] = s1;
        out[o0 + 2 * outStride] = s2;
        out[o0 + 3 * outStride] = s3;
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

    /**
     * The segment-weights twin of {@link #rowTimesBatch}, same reduction order as
     * {@link #dot(MemorySegment, long, float[], int, int)}: F32 rows are copied to a scratch row
     * (exact) and go through the array kernel.
     */
    public static void rowTimesBatch(MemorySegment w, long wOff, int n, float[] x, int xStride, int batch,
                                     float[] out, int outIndex, int outStride, float[] scratch) {
        MemorySegment.copy(w, F32.LAYOUT, wOff, scratch, 0, n);
        rowTimesBatch(scratch, 0, n, x, 0, xStride, batch, out, outIndex, outStride);
    }
}
