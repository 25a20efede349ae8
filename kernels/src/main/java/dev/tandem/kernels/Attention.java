package dev.tandem.kernels;

import java.util.Arrays;

/**
 * Causal attention of one query head over the cached keys and values of one KV head (GQA: several
 * query heads share a KV head). Keys and values live in paged storage: the cache row of sequence
 * position {@code t} is row {@code pages[t / pageSize] * pageSize + t % pageSize} of a
 * {@code float[]} whose rows are {@code rowStride} floats; the head starts {@code headOffset}
 * floats into its row. Positions are visited in order 0..n-1, so the result does not depend on
 * how the query was batched.
 */
public final class Attention {
    private static final int L = Vectors.LANES;

    private Attention() {}

    /** Float offset of position {@code t}'s row in paged storage. */
    public static int rowOffset(int[] pages, int pageSize, int rowStride, int t) {
        return (pages[t / pageSize] * pageSize + t % pageSize) * rowStride;
    }

    /**
     * {@code out[outOff .. +headDim) = Σ_t softmax(q·k_t · scale)_t · v_t} over positions {@code t < n}.
     * {@code scores} is scratch of at least {@code n} floats.
     */
    public static void attend(float[] q, int qOff, int headDim,
                              float[] k, float[] v, int[] pages, int pageSize, int rowStride, int headOffset, int n,
                              float scale, float[] scores, float[] out, int outOff) {
        // Page by page (one table lookup per page, no division per position), and within a page L positions at
        // a time: each position's chains combined into a row of an L × L lane block (Dot.dotLanes), the block's
        // lanes summed for all L at once (Dot.sumLanesOfBlock), then the scalar tail: exactly Dot.dot's operations.
        float[] lanes = BlockFormat.lanes();
        int bound = Vectors.F.loopBound(headDim);
        for (int t0 = 0; t0 < n; t0 += pageSize) {
            int row = pages[t0 / pageSize] * pageSize * rowStride + headOffset;
            int tEnd = Math.min(n, t0 + pageSize);
            for (int t = t0; t < tEnd; ) {
                int count = Math.min(L, tEnd - t);
                for (int j = 0; j < count; j++) {
                    Dot.dotLanes(q, qOff, k, row + j * rowStride, headDim, lanes, j * L);
                }
                if (count == L) {
                    Dot.sumLanesOfBlock(lanes, 0, scores, t);
                } else {
                    for (int j = 0; j < count; j++) {
                        scores[t + j] = Dot.sumLanes(lanes, j * L);
                    }
                }
                for (int j = 0; j < count; j++, row += rowStride) {
                    float sum = scores[t + j];
                    for (int i = bound; i < headDim; i++) {
                        sum = Math.fma(q[qOff + i], k[row + i], sum);
                    }
                    scores[t + j] = sum * scale;
                }
                t += count;
            }
        }
        Ops.softmax(scores, 0, n);
        Arrays.fill(out, outOff, outOff + headDim, 0f);
        for (int t0 = 0; t0 < n; t0 += pageSize) {
            int row = pages[t0 / pageSize] * pageSize * rowStride + headOffset;
            for (int t = t0; t < Math.min(n, t0 + pageSize); t++, row += rowStride) {
                Ops.axpy(out, outOff, scores[t], v, row, headDim);
            }
        }
    }

    /**
     * {@link #attend} over F16 storage ({@code short[]} binary16 bits): each key and value row is
     * widened exactly into {@code row} (scratch of at least {@code headDim} floats) and then reduced
     * as in {@link #attend}, so the result is what {@link #attend} gives on the widened cache.
     */
    public static void attendHalf(float[] q, int qOff, int headDim,
                                  short[] k, short[] v, int[] pages, int pageSize, int rowStride, int headOffset, int n,
                                  float scale, float[] scores, float[] row, float[] out, int outOff) {
        for (int t0 = 0; t0 < n; t0 += pageSize) {
            int at = pages[t0 / pageSize] * pageSize * rowStride + headOffset;
            for (int t = t0; t < Math.min(n, t0 + pageSize); t++, at += rowStride) {
                F16.widen(k, at, row, 0, headDim);
                scores[t] = Dot.dot(q, qOff, row, 0, headDim) * scale;
            }
        }
        Ops.softmax(scores, 0, n);
        Arrays.fill(out, outOff, outOff + headDim, 0f);
        for (int t0 = 0; t0 < n; t0 += pageSize) {
            int at = pages[t0 / pageSize] * pageSize * rowStride + headOffset;
            for (int t = t0; t < Math.min(n, t0 + pageSize); t++, at += rowStride) {
                F16.widen(v, at, row, 0, headDim);
                Ops.axpy(out, outOff, scores[t], row, 0, headDim);
            }
        }
    }

    /** Scalar twin of {@link #attend}, in double. */
    public static void attendReference(float[] q, int qOff, int headDim,
                                       float[] k, float[] v, int[] pages, int pageSize, int rowStride, int headOffset, int n,
                                       float scale, float[] out, int outOff) {
        double[] s = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < n; t++) {
            int row = rowOffset(pages, pageSize, rowStride, t) + headOffset;
            double d = 0;
            for (int i = 0; i < headDim; i++) {
                d += (double) q[qOff + i] * k[row + i];
            }
            s[t] = d * scale;
            max = Math.max(max, s[t]);
        }
        double sum = 0;
        for (int t = 0; t < n; t++) {
            s[t] = Math.exp(s[t] - max);
            sum += s[t];
        }
        double[] acc = new double[headDim];
        for (int t = 0; t < n; t++) {
            int row = rowOffset(pages, pageSize, rowStride, t) + headOffset;
            for (int i = 0; i < headDim; i++) {
                acc[i] += s[t] / sum * v[row + i];
            }
        }
        for (int i = 0; i < headDim; i++) {
            out[outOff + i] = (float) acc[i];
        }
    }
}
