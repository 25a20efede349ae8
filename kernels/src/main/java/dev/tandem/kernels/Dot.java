package dev.tandem.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * F32 dot products with one fixed reduction order: lane-wise fused multiply-add over whole
 * vectors from index 0 up, the lanes summed in lane order ({@link #sumLanes}), then the scalar tail in index order.
 * Every variant here (one vector, a tile of four, weights from a segment) follows that order, so
 * an element's value never depends on which variant or which batch computed it.
 */
public final class Dot {
    private static final VectorSpecies<Float> S = Vectors.F;
    private static final int L = Vectors.LANES;
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

    /** {@code Σ a[aOff + i] · b[bOff + i]} for {@code i < n}. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int bound = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < bound; i += L) {
            acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        }
        float sum = sumLanes(acc);
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
     * writing {@code out[b * outStride + outIndex]}. Four vectors at a time share each loaded weight vector.
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

    private static void dot4(float[] w, int wOff, int n, float[] x, int x0, int xStride,
                             float[] out, int o0, int outStride) {
        int x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride;
        int bound = S.loopBound(n);
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < bound; i += L) {
            FloatVector wv = FloatVector.fromArray(S, w, wOff + i);
            a0 = wv.fma(FloatVector.fromArray(S, x, x0 + i), a0);
            a1 = wv.fma(FloatVector.fromArray(S, x, x1 + i), a1);
            a2 = wv.fma(FloatVector.fromArray(S, x, x2 + i), a2);
            a3 = wv.fma(FloatVector.fromArray(S, x, x3 + i), a3);
        }
        float s0 = sumLanes(a0), s1 = sumLanes(a1);
        float s2 = sumLanes(a2), s3 = sumLanes(a3);
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

    /** {@code Σ w[i] · x[xOff + i]} with little-endian F32 weights read from a segment at byte {@code wOff}. */
    public static float dot(MemorySegment w, long wOff, float[] x, int xOff, int n) {
        int bound = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < bound; i += L) {
            FloatVector wv = FloatVector.fromMemorySegment(S, w, wOff + 4L * i, LE);
            acc = wv.fma(FloatVector.fromArray(S, x, xOff + i), acc);
        }
        float sum = sumLanes(acc);
        for (int i = bound; i < n; i++) {
            sum = Math.fma(w.get(F32.LAYOUT, wOff + 4L * i), x[xOff + i], sum);
        }
        return sum;
    }

    /** The segment-weights twin of {@link #rowTimesBatch}, same reduction order as {@link #dot(MemorySegment, long, float[], int, int)}. */
    public static void rowTimesBatch(MemorySegment w, long wOff, int n, float[] x, int xStride, int batch,
                                     float[] out, int outIndex, int outStride) {
        int b = 0;
        for (; b + 4 <= batch; b += 4) {
            int x0 = b * xStride, x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride;
            int bound = S.loopBound(n);
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i < bound; i += L) {
                FloatVector wv = FloatVector.fromMemorySegment(S, w, wOff + 4L * i, LE);
                a0 = wv.fma(FloatVector.fromArray(S, x, x0 + i), a0);
                a1 = wv.fma(FloatVector.fromArray(S, x, x1 + i), a1);
                a2 = wv.fma(FloatVector.fromArray(S, x, x2 + i), a2);
                a3 = wv.fma(FloatVector.fromArray(S, x, x3 + i), a3);
            }
            float s0 = sumLanes(a0), s1 = sumLanes(a1);
            float s2 = sumLanes(a2), s3 = sumLanes(a3);
            for (int i = bound; i < n; i++) {
                float wi = w.get(F32.LAYOUT, wOff + 4L * i);
                s0 = Math.fma(wi, x[x0 + i], s0);
                s1 = Math.fma(wi, x[x1 + i], s1);
                s2 = Math.fma(wi, x[x2 + i], s2);
                s3 = Math.fma(wi, x[x3 + i], s3);
            }
            int o = outIndex + b * outStride;
            out[o] = s0;
            out[o + outStride] = s1;
            out[o + 2 * outStride] = s2;
            out[o + 3 * outStride] = s3;
        }
        for (; b < batch; b++) {
            out[outIndex + b * outStride] = dot(w, wOff, x, b * xStride, n);
        }
    }
}
