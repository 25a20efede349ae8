package dev.tandem.kernels;

import dev.tandem.kernels.x86.AttentionDot;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;

    private Attention() {}

    /** Float offset of position {@code t}'s row in paged storage. */
    public static int rowOffset(int[] pages, int pageSize, int rowStride, int t) {
        return (pages[t / pageSize] * pageSize + t % pageSize) * rowStride;
    }

    /** Whether {@link AttentionDot}'s kernels do exactly this class's operations here: at 16 float lanes, whole 16-float vectors, pages of whole blocks of 16. */
    static boolean nativeFits(int headDim, int pageSize) {
        return AttentionDot.available() && L == 16 && headDim % 16 == 0 && headDim <= 16 * AttentionDot.MAX_VECTORS
                && pageSize % 16 == 0;
    }

    /**
     * {@link #attend} with the keys and values also given as heap segments of the same arrays ({@code kSeg},
     * {@code vSeg}; null: none): where {@link #nativeFits} holds, the scores and the weighted sum run in
     * {@link AttentionDot}'s native kernels, bitwise the same as the Java code.
     */
    public static void attend(float[] q, int qOff, int headDim, float[] k, float[] v, MemorySegment kSeg, MemorySegment vSeg,
                              int[] pages, int pageSize, int rowStride, int headOffset, int n,
                              float scale, float[] scores, float[] out, int outOff) {
        if (kSeg == null || vSeg == null || !nativeFits(headDim, pageSize)) {
            attend(q, qOff, headDim, k, v, pages, pageSize, rowStride, headOffset, n, scale, scores, out, outOff);
            return;
        }
        int vectors = headDim / 16, pagesUsed = (n + pageSize - 1) / pageSize, blocks = (n + 15) / 16;
        // Element loops rather than MemorySegment.copy from arrays: those wrap the array in a segment,
        // an allocation the JIT does not always remove, and a decode step must allocate nothing. Unaligned
        // layouts: the scratch is 64-byte aligned anyway, and the aligned ones cost a check per element.
        MemorySegment query = NativeScratch.attentionQuery(headDim);
        for (int i = 0; i < headDim; i++) {
            query.setAtIndex(FLOAT, i, q[qOff + i]);
        }
        MemorySegment starts = NativeScratch.attentionPages(pagesUsed);
        for (int p = 0; p < pagesUsed; p++) {
            starts.setAtIndex(INT, p, pages[p] * pageSize * rowStride + headOffset);
        }
        MemorySegment raw = NativeScratch.attentionScores(16 * blocks);   // whole blocks: rows past n are read, their scores dropped
        AttentionDot.scores(vectors, query, kSeg, starts, blocks, pageSize / 16, rowStride, raw);
        for (int t = 0; t < n; t++) {
            scores[t] = raw.getAtIndex(FLOAT, t) * scale;
        }
        Ops.softmax(scores, 0, n);
        for (int t = 0; t < n; t++) {
            raw.setAtIndex(FLOAT, t, scores[t]);
        }
        MemorySegment sum = NativeScratch.attentionOut(headDim);
        AttentionDot.weightedSum(vectors, raw, vSeg, starts, n, pageSize, rowStride, sum);
        for (int i = 0; i < headDim; i++) {
            out[outOff + i] = sum.getAtIndex(FLOAT, i);
        }
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
        weightedSum(scores, v, pages, pageSize, rowStride, headOffset, n, headDim, out, outOff);
    }

    /**
     * {@code out[outOff + i] = Σ_t scores[t] · v_t[i]}, for each element one fused multiply-add per
     * position from {@code t = 0} up, starting at 0: exactly {@link Ops#axpy} once per position into a
     * zeroed {@code out}, with the sums kept in registers (up to four vectors at a time) instead of
     * stored and reloaded per position.
     */
    static void weightedSum(float[] scores, float[] v, int[] pages, int pageSize, int rowStride, int headOffset, int n,
                            int headDim, float[] out, int outOff) {
        var S = Vectors.F;
        int bound = S.loopBound(headDim);
        int c = 0;
        for (; c + 4 * L <= bound; c += 4 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int t0 = 0; t0 < n; t0 += pageSize) {
                int row = pages[t0 / pageSize] * pageSize * rowStride + headOffset + c;
                int tEnd = Math.min(n, t0 + pageSize);
                for (int t = t0; t < tEnd; t++, row += rowStride) {
                    FloatVector s = FloatVector.broadcast(S, scores[t]);
                    a0 = FloatVector.fromArray(S, v, row).fma(s, a0);
                    a1 = FloatVector.fromArray(S, v, row + L).fma(s, a1);
                    a2 = FloatVector.fromArray(S, v, row + 2 * L).fma(s, a2);
                    a3 = FloatVector.fromArray(S, v, row + 3 * L).fma(s, a3);
                }
            }
            a0.intoArray(out, outOff + c);
            a1.intoArray(out, outOff + c + L);
            a2.intoArray(out, outOff + c + 2 * L);
            a3.intoArray(out, outOff + c + 3 * L);
        }
        for (; c < bound; c += L) {
            FloatVector a0 = FloatVector.zero(S);
            for (int t0 = 0; t0 < n; t0 += pageSize) {
                int row = pages[t0 / pageSize] * pageSize * rowStride + headOffset + c;
                int tEnd = Math.min(n, t0 + pageSize);
                for (int t = t0; t < tEnd; t++, row += rowStride) {
                    a0 = FloatVector.fromArray(S, v, row).fma(FloatVector.broadcast(S, scores[t]), a0);
                }
            }
            a0.intoArray(out, outOff + c);
        }
        for (int i = bound; i < headDim; i++) {
            float a = 0;
            for (int t = 0; t < n; t++) {
                a = Math.fma(v[rowOffset(pages, pageSize, rowStride, t) + headOffset + i], scores[t], a);
            }
            out[outOff + i] = a;
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
