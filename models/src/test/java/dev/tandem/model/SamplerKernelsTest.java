package dev.tandem.model;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sampler's inner loops against plain reference code, and vector lanes against their scalar twin. */
class SamplerKernelsTest {

    /** Our exp against Math.exp: relative error of a degree-6 polynomial in float arithmetic. */
    private static final double EXP_RELATIVE_TOLERANCE = 4e-7;

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    // Lengths that leave every possible vector tail (up to 16 lanes) and cross a weight block.
    private static final int[] LENGTHS = {1, 2, 7, 15, 16, 17, 31, 33, 63, 64, 65, 1000, 1024, 1025, 2500};

    @Test
    void expIsCloseToMathExpAndExactAtZero() {
        assertEquals(1f, SamplerKernels.exp(0f));
        assertEquals(1f, SamplerKernels.exp(-0f));
        assertEquals(0f, SamplerKernels.exp(NEG_INF));
        assertEquals(0f, SamplerKernels.exp(-87f));
        assertEquals(0f, SamplerKernels.exp(-1e30f));
        double worst = 0;
        float worstX = 0;
        for (int i = 0; i <= 200_000; i++) {
            float x = -86.99f * i / 200_000f;
            double want = Math.exp(x);
            double err = Math.abs(SamplerKernels.exp(x) - want) / want;
            if (err > worst) {
                worst = err;
                worstX = x;
            }
        }
        final float at = worstX;
        final double w = worst;
        assertTrue(worst <= EXP_RELATIVE_TOLERANCE, () -> "exp(" + at + ") relative error " + w);
    }

    @Test
    void expIsMonotone() {
        float prev = 0f;
        for (int i = 200_000; i >= 0; i--) {
            float x = -86.99f * i / 200_000f;
            float e = SamplerKernels.exp(x);
            final float p = prev;
            assertTrue(e >= p, () -> "exp(" + x + ") = " + e + " < exp of a smaller x = " + p);
            prev = e;
        }
    }

    @Test
    void vectorExpEqualsScalarTwinBitwise() {
        SplittableRandom r = new SplittableRandom(21);
        float[] specials = {NEG_INF, -1e30f, 1e30f, Float.MAX_VALUE, -Float.MAX_VALUE, 0f, -86.9f, -87.1f};
        for (int n : LENGTHS) {
            float[] src = new float[n];
            for (int i = 0; i < n; i++) {
                src[i] = r.nextInt(6) == 0 ? specials[r.nextInt(specials.length)] : (float) r.nextGaussian() * 20;
            }
            float max = SamplerKernels.max(src, n);
            for (float scale : new float[]{1f, 0.37f, 3.7f, 1e-20f, Float.MAX_VALUE}) {
                float[] got = new float[n];
                SamplerKernels.expShifted(src, n, max, scale, got);
                for (int i = 0; i < n; i++) {
                    float want = SamplerKernels.exp((src[i] - max) * scale);
                    final int at = i;
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[i]),
                            () -> "n " + n + " scale " + scale + " lane " + at + ": x " + src[at] + " max " + max);
                }
            }
        }
    }

    @Test
    void loadRowCleansCopiesAndFindsTheMax() {
        SplittableRandom r = new SplittableRandom(4);
        float[] specials = {Float.NaN, NEG_INF, Float.POSITIVE_INFINITY, 1e30f};
        for (int n : LENGTHS) {
            float[] src = new float[n + 3];
            for (int i = 0; i < src.length; i++) {
                src[i] = r.nextInt(5) == 0 ? specials[r.nextInt(specials.length)] : (float) r.nextGaussian();
            }
            float[] dst = new float[n];
            float max = SamplerKernels.loadRow(src, 3, n, dst);
            float wantMax = NEG_INF;
            for (int i = 0; i < n; i++) {
                float x = src[3 + i];
                float want = Float.isNaN(x) ? NEG_INF : x == Float.POSITIVE_INFINITY ? Float.MAX_VALUE : x;
                assertEquals(want, dst[i], "n " + n + " at " + i + " from " + x);
                wantMax = Math.max(wantMax, want);
            }
            assertEquals(wantMax, max, "n " + n);
            assertEquals(wantMax, SamplerKernels.max(dst, n));
            int first = 0;
            while (dst[first] != wantMax) {
                first++;
            }
            assertEquals(first, SamplerKernels.firstIndexOf(dst, n, wantMax));
            int[] ids = new int[n];
            float threshold = 0.5f;
            int m = SamplerKernels.idsAtLeast(dst, n, threshold, ids);
            int[] want = java.util.stream.IntStream.range(0, n).filter(i -> dst[i] >= threshold).toArray();
            assertArrayEquals(want, Arrays.copyOf(ids, m), "ids ≥ 0.5 at n " + n);
        }
    }

    @Test
    void sumBlocksAndPickAgreeWithASequentialScan() {
        // Small integer weights: every partial sum is exact, so the draw must match a plain scan exactly.
        SplittableRandom r = new SplittableRandom(8);
        for (int n : LENGTHS) {
            float[] w = new float[n];
            for (int i = 0; i < n; i++) {
                w[i] = r.nextInt(3) == 0 ? 0f : 1 + r.nextInt(3);
            }
            w[n - 1] = 1f; // at least one weight
            double[] blocks = new double[SamplerKernels.blocks(n)];
            double total = SamplerKernels.sumBlocks(w, n, blocks);
            double want = 0;
            for (float x : w) {
                want += x;
            }
            assertEquals(want, total, "n " + n);
            for (int step = 0; step <= 400; step++) {
                double u = step / 400.0 * 0.999999;
                double target = u * total;
                int expected = -1;
                double cum = 0;
                for (int i = 0; i < n; i++) {
                    cum += w[i];
                    if (target < cum) {
                        expected = i;
                        break;
                    }
                }
                int got = SamplerKernels.pick(w, n, blocks, total, u);
                assertEquals(expected, got, "n " + n + " u " + u);
                assertTrue(w[got] > 0f);
            }
        }
    }

    // ---- ranking ----

    private static Integer[] referenceRanking(float[] v, int n) {
        Integer[] ids = new Integer[n];
        for (int i = 0; i < n; i++) {
            ids[i] = i;
        }
        Arrays.sort(ids, Comparator.comparingDouble((Integer i) -> -v[i]).thenComparingInt(i -> i));
        return ids;
    }

    private static float[] values(SplittableRandom r, int n, boolean ties) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = ties ? r.nextInt(7) : (float) r.nextGaussian() * 4;
        }
        if (n > 3) {
            v[n / 2] = NEG_INF;
        }
        return v;
    }

    @Test
    void heapSelectAndSortMatchAFullReferenceSort() {
        SplittableRandom r = new SplittableRandom(13);
        for (int n : LENGTHS) {
            for (boolean ties : new boolean[]{false, true}) {
                float[] v = values(r, n, ties);
                Integer[] want = referenceRanking(v, n);
                for (int kk : new int[]{1, 2, n / 16, n / 2, n}) {
                    int k = Math.max(1, Math.min(n, kk));
                    String what = "n " + n + " k " + k + (ties ? " with ties" : "");
                    int[] heap = new int[n];
                    SamplerKernels.topKHeap(v, n, k, heap);
                    for (int j = 0; j < k; j++) {
                        assertEquals(want[j], heap[j], what + " heap rank " + j);
                    }
                    int[] sel = java.util.stream.IntStream.range(0, n).toArray();
                    SamplerKernels.selectTop(v, sel, 0, n, k, true);
                    for (int j = 0; j < k; j++) {
                        assertEquals(want[j], sel[j], what + " select rank " + j);
                    }
                    int[] unsorted = java.util.stream.IntStream.range(0, n).toArray();
                    SamplerKernels.selectTop(v, unsorted, 0, n, k, false);
                    assertEquals(new TreeSet<>(Arrays.asList(want).subList(0, k)), set(unsorted, k), what + " select set");
                }
            }
        }
    }

    @Test
    void sortSurvivesAdversarialOrders() {
        int n = 5000;
        float[] ascending = new float[n];
        float[] organPipe = new float[n];
        float[] equal = new float[n];
        for (int i = 0; i < n; i++) {
            ascending[i] = i;
            organPipe[i] = Math.min(i, n - i);
        }
        for (float[] v : new float[][]{ascending, organPipe, equal}) {
            int[] ids = java.util.stream.IntStream.range(0, n).toArray();
            SamplerKernels.sort(v, ids, 0, n);
            Integer[] want = referenceRanking(v, n);
            for (int j = 0; j < n; j++) {
                assertEquals(want[j], ids[j], "rank " + j);
            }
        }
    }

    @Test
    void prefixReachingFindsTheSmallestNucleus() {
        SplittableRandom r = new SplittableRandom(17);
        for (int n : LENGTHS) {
            float[] v = new float[n];
            float[] w = new float[n];
            for (int i = 0; i < n; i++) {
                int level = r.nextInt(12);
                v[i] = level;
                w[i] = 1 << level; // non-increasing along the ranking, sums exact
            }
            Integer[] rank = referenceRanking(v, n);
            double total = 0;
            for (float x : w) {
                total += x;
            }
            for (double frac : new double[]{1e-9, 0.1, 0.5, 0.9, 0.999, 1.0}) {
                double target = frac * total;
                int want = 0;
                double cum = 0;
                while (want < n && cum < target) {
                    cum += w[rank[want++]];
                }
                int[] ids = java.util.stream.IntStream.range(0, n).toArray();
                int got = SamplerKernels.prefixReaching(v, w, ids, n, target);
                String what = "n " + n + " target " + frac + " of the mass";
                assertEquals(want, got, what);
                assertEquals(new TreeSet<>(Arrays.asList(rank).subList(0, want)), set(ids, got), what);
            }
        }
    }

    private static Set<Integer> set(int[] ids, int k) {
        Set<Integer> s = new TreeSet<>();
        for (int j = 0; j < k; j++) {
            s.add(ids[j]);
        }
        return s;
    }

    // ---- the whole filter against a naive reference ----

    /** llama.cpp's order, naively: full sort, top-k, softmax, top-p prefix, then min-p against the max. */
    private static Set<Integer> referenceFilter(float[] logits, SamplingParams p) {
        int n = logits.length;
        Integer[] rank = referenceRanking(logits, n);
        List<Integer> cand = new ArrayList<>();
        for (Integer id : rank) {
            if (logits[id] != NEG_INF) {
                cand.add(id);
            }
        }
        if (p.topK() > 0 && p.topK() < cand.size()) {
            cand = cand.subList(0, p.topK());
        }
        double max = logits[cand.get(0)];
        double z = 0;
        for (int id : cand) {
            z += Math.exp(logits[id] - max);
        }
        if (p.topP() < 1f) {
            double cum = 0;
            int keep = 0;
            while (keep < cand.size()) {
                cum += Math.exp(logits[cand.get(keep++)] - max) / z;
                if (cum >= p.topP()) {
                    break;
                }
            }
            cand = cand.subList(0, keep);
        }
        Set<Integer> out = new TreeSet<>();
        for (int id : cand) {
            if (Math.exp(logits[id] - max) >= p.minP()) { // p / p_max ≥ minP
                out.add(id);
            }
        }
        return out;
    }

    @Test
    void filterKeepsExactlyWhatTheNaiveChainKeeps() {
        SplittableRandom r = new SplittableRandom(29);
        int n = 3000;
        int[][] topKs = {{0}, {1}, {40}, {150}, {2999}}; // heap (≤ n/16) and quickselect paths
        float[] topPs = {1f, 0.95f, 0.5f, 0.9f};
        float[] minPs = {0f, 0.05f, 0.3f};
        int cases = 0;
        for (int trial = 0; trial < 4; trial++) {
            float[] logits = new float[n];
            double spread = trial % 2 == 0 ? 1.5 : 4;
            for (int i = 0; i < n; i++) {
                logits[i] = (float) (r.nextGaussian() * spread);
            }
            for (int i = 0; i < 10; i++) {
                logits[r.nextInt(n)] += 6 + trial; // a few likely tokens, as language models have
            }
            logits[r.nextInt(n)] = NEG_INF;
            for (int[] k : topKs) {
                for (float topP : topPs) {
                    for (float minP : minPs) {
                        SamplingParams p = new SamplingParams(1f, k[0], topP, minP, 1f, 0f, 0f, 64, 0L);
                        Sampler s = new Sampler(p, n);
                        int m = s.filterForTest(logits, 0, n);
                        Set<Integer> got = new TreeSet<>();
                        for (int j = 0; j < m; j++) {
                            got.add(s.candidate(j));
                        }
                        assertEquals(m, got.size(), "duplicate candidates for " + p);
                        Set<Integer> want = referenceFilter(logits, p);
                        Set<Integer> missing = new TreeSet<>(want);
                        missing.removeAll(got);
                        Set<Integer> extra = new TreeSet<>(got);
                        extra.removeAll(want);
                        final int t = trial;
                        assertTrue(missing.isEmpty() && extra.isEmpty(), () -> "trial " + t + " " + p + ": kept "
                                + got.size() + ", reference " + want.size() + "; missing " + missing + ", extra " + extra);
                        cases++;
                    }
                }
            }
        }
        assertEquals(4 * 5 * 4 * 3, cases);
    }
}
