package dev.tandem.model;

import dev.tandem.kernels.Vectors;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The allocation-free inner loops of {@link Sampler} and {@link SamplingLogprobs}: reading a row,
 * exponentials and sums, the draw, and ranking token ids by logit.
 *
 * <p><b>Determinism.</b> Every result here is bitwise the same on every JVM and vector width: the
 * vector loops use only IEEE add, subtract, multiply, compare, min/max and integer conversion
 * (no fused multiply-add, no lane reductions of sums), each element gets exactly the operations of
 * its scalar twin ({@link #exp}), and sums run in one fixed order in scalar code.
 *
 * <p><b>Ranking.</b> A total order: a larger value first, equal values by the smaller id. Values
 * are never NaN here ({@link #loadRow} replaces NaN by -inf). Small top-k is a heap scanned with
 * vector compares; otherwise quickselect and quicksort with a median-of-three pivot, insertion sort
 * for short ranges and a heapsort fallback when recursion gets too deep, so nothing costs more
 * than O(n log n). ({@code Arrays.sort} is not used: it may allocate, and cannot sort ids by a key
 * held in another array.)
 */
final class SamplerKernels {
    private SamplerKernels() {}

    private static final VectorSpecies<Float> F = Vectors.F;
    private static final int LANES = F.length();
    private static final int INSERTION = 16;

    /** Weights are summed in blocks of this many, so a draw scans blocks first, then one block. */
    static final int BLOCK = 1024;

    /** Block sums needed for a row of n weights. */
    static int blocks(int n) {
        return (n + BLOCK - 1) / BLOCK;
    }

    // ---- reading a row ----

    /**
     * Copies {@code src[off, off + n)} into {@code dst[0, n)} with NaN replaced by -inf and +inf by
     * the largest finite float; returns the largest value (-inf when there is none).
     */
    static float loadRow(float[] src, int off, int n, float[] dst) {
        FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, src, off + i);
            v = v.blend(Float.NEGATIVE_INFINITY, v.test(VectorOperators.IS_NAN)).min(Float.MAX_VALUE);
            v.intoArray(dst, i);
            vmax = vmax.max(v);
        }
        float max = vmax.reduceLanes(VectorOperators.MAX); // max is exact in any order
        for (; i < n; i++) {
            float x = clean(src[off + i]);
            dst[i] = x;
            max = Math.max(max, x);
        }
        return max;
    }

    /** NaN → -inf, +inf → the largest finite float. */
    static float clean(float x) {
        return x != x ? Float.NEGATIVE_INFINITY : Math.min(x, Float.MAX_VALUE);
    }

    /** The largest of {@code x[0, n)} (no NaN). */
    static float max(float[] x, int n) {
        FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += LANES) {
            vmax = vmax.max(FloatVector.fromArray(F, x, i));
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        return max;
    }

    /** The lowest i < n with {@code x[i] == v}, or -1. */
    static int firstIndexOf(float[] x, int n, float v) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += LANES) {
            VectorMask<Float> hit = FloatVector.fromArray(F, x, i).compare(VectorOperators.EQ, v);
            if (hit.anyTrue()) {
                return i + hit.firstTrue();
            }
        }
        for (; i < n; i++) {
            if (x[i] == v) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Writes the ids i < n with {@code x[i] >= threshold} into {@code ids}, ascending; returns how many.
     */
    static int idsAtLeast(float[] x, int n, float threshold, int[] ids) {
        int m = 0;
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += LANES) {
            long bits = FloatVector.fromArray(F, x, i).compare(VectorOperators.GE, threshold).toLong();
            while (bits != 0) {
                ids[m++] = i + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
            }
        }
        for (; i < n; i++) {
            if (x[i] >= threshold) {
                ids[m++] = i;
            }
        }
        return m;
    }

    // ---- exponentials, sums, the draw ----

    private static final float LOG2E = 1.44269504f;
    private static final float LN2_HI = 0.693145751953125f;     // few mantissa bits: k · LN2_HI is exact
    private static final float LN2_LO = 1.428606765330187e-06f; // ln 2 − LN2_HI
    private static final float ROUND = 12582912f;               // 1.5 · 2^23: adding and subtracting it rounds to an integer
    private static final float UNDERFLOW = -87f;                // below this, e^x is taken as 0

    /**
     * e^x for x ≤ 0 (x ≤ -87 and -inf give 0), relative error about 2e-7: x = k·ln2 + r with
     * |r| ≤ ln2/2, a degree-6 Taylor polynomial in r, times 2^k built from its bits. Plain IEEE float
     * arithmetic, so the same on every JVM (unlike {@code Math.exp}), and the exact twin of the lanes of
     * {@link #expShifted}.
     */
    static float exp(float x) {
        float y = Math.max(x, UNDERFLOW);
        float k = (y * LOG2E + ROUND) - ROUND;
        float r = (y - k * LN2_HI) - k * LN2_LO;
        float p = ((((((r * (1f / 720) + (1f / 120)) * r + (1f / 24)) * r + (1f / 6)) * r + 0.5f) * r + 1f) * r + 1f);
        float e = p * Float.intBitsToFloat(((int) k + 127) << 23);
        return x > UNDERFLOW ? e : 0f;
    }

    /** {@code dst[i] = exp((src[i] - max) · scale)} for i < n, with max ≥ every src[i] and scale > 0 ({@code dst} may be {@code src}). */
    static void expShifted(float[] src, int n, float max, float scale, float[] dst) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += LANES) {
            FloatVector x = FloatVector.fromArray(F, src, i).sub(max).mul(scale);
            FloatVector y = x.max(UNDERFLOW);
            FloatVector k = y.mul(LOG2E).add(ROUND).sub(ROUND);
            FloatVector r = y.sub(k.mul(LN2_HI)).sub(k.mul(LN2_LO));
            FloatVector p = r.mul(1f / 720).add(1f / 120).mul(r).add(1f / 24).mul(r).add(1f / 6)
                    .mul(r).add(0.5f).mul(r).add(1f).mul(r).add(1f);
            FloatVector two = k.convert(VectorOperators.F2I, 0).reinterpretAsInts()
                    .add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = p.mul(two);
            FloatVector.zero(F).blend(e, x.compare(VectorOperators.GT, UNDERFLOW)).intoArray(dst, i);
        }
        for (; i < n; i++) {
            dst[i] = exp((src[i] - max) * scale);
        }
    }

    /**
     * Sums {@code w[0, n)} (non-negative) in double: each block of {@link #BLOCK} with eight
     * interleaved accumulators, the blocks in order. Writes each block's sum into {@code blockSums}
     * and returns the total, which is the ordered sum of the block sums.
     */
    static double sumBlocks(float[] w, int n, double[] blockSums) {
        double total = 0;
        for (int b = 0, from = 0; from < n; b++, from += BLOCK) {
            int to = Math.min(n, from + BLOCK);
            double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
            int i = from;
            for (; i + 8 <= to; i += 8) {
                a0 += w[i];
                a1 += w[i + 1];
                a2 += w[i + 2];
                a3 += w[i + 3];
                a4 += w[i + 4];
                a5 += w[i + 5];
                a6 += w[i + 6];
                a7 += w[i + 7];
            }
            double s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
            for (; i < to; i++) {
                s += w[i];
            }
            blockSums[b] = s;
            total += s;
        }
        return total;
    }

    /**
     * The index j < n where the running sum of {@code w} first exceeds {@code u · total}: a draw
     * from the weights, given u in [0, 1) and the output of {@link #sumBlocks}. Never an index of
     * weight 0; when rounding leaves the target past every sum, the last index with weight.
     */
    static int pick(float[] w, int n, double[] blockSums, double total, double u) {
        double target = u * total;
        double cum = 0;
        for (int b = 0, from = 0; from < n; b++, from += BLOCK) {
            double next = cum + blockSums[b];
            if (target < next) {
                int to = Math.min(n, from + BLOCK);
                int last = -1;
                for (int i = from; i < to; i++) {
                    if (w[i] > 0f) {
                        cum += w[i];
                        last = i;
                        if (target < cum) {
                            return i;
                        }
                    }
                }
                return last; // the in-block order rounded differently from the block sum (positive here)
            }
            cum = next;
        }
        for (int i = n - 1; ; i--) {
            if (w[i] > 0f) {
                return i;
            }
        }
    }

    // ---- ranking ----

    /** True when token {@code a} ranks before token {@code b}: larger value, or equal value and smaller id. */
    static boolean before(float[] value, int a, int b) {
        float x = value[a];
        float y = value[b];
        return x > y || (x == y && a < b);
    }

    /**
     * The k best of tokens [0, n) into {@code ids[0, k)}, best first, for 0 < k ≤ n: a heap of the
     * k best so far (worst at the root) while a vector compare against its worst value skips most
     * tokens. A later token beats the worst only with a strictly larger value, since its id is larger.
     */
    static void topKHeap(float[] value, int n, int k, int[] ids) {
        for (int i = 0; i < k; i++) {
            ids[i] = i;
        }
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(value, ids, 0, i, k);
        }
        float worst = value[ids[0]];
        int i = k;
        for (int bound = k + F.loopBound(n - k); i < bound; i += LANES) {
            long bits = FloatVector.fromArray(F, value, i).compare(VectorOperators.GT, worst).toLong();
            while (bits != 0) {
                int id = i + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                if (value[id] > worst) {
                    ids[0] = id;
                    siftDown(value, ids, 0, 0, k);
                    worst = value[ids[0]];
                }
            }
        }
        for (; i < n; i++) {
            if (value[i] > worst) {
                ids[0] = i;
                siftDown(value, ids, 0, 0, k);
                worst = value[ids[0]];
            }
        }
        for (int end = k - 1; end > 0; end--) {
            swap(ids, 0, end);
            siftDown(value, ids, 0, 0, end);
        }
    }

    /**
     * Rearranges {@code ids[from, to)} so that {@code ids[from, from + k)} holds its k best tokens,
     * sorted best first when {@code sorted}; the rest follow in no particular order.
     *
     * @param value [vocab] logits indexed by token id
     * @param ids   token ids (distinct) to rank
     */
    static void selectTop(float[] value, int[] ids, int from, int to, int k, boolean sorted) {
        if (k <= 0) {
            return;
        }
        if (k < to - from) {
            select(value, ids, from, to - 1, from + k - 1, depthBudget(to - from));
        }
        if (sorted) {
            sort(value, ids, from, Math.min(to, from + k));
        }
    }

    /**
     * Top-p's cut without a full sort: moves to {@code ids[0, L)} the smallest set of best-ranked
     * tokens of {@code ids[0, m)} whose weights sum to at least {@code target}, and returns L (m when
     * rounding leaves the whole set short of it). A quickselect that keeps the mass of each side:
     * expected O(m), and O(m log m) at worst (the last range is sorted and scanned).
     *
     * @param weight [vocab] weights indexed by token id, non-increasing along the ranking
     */
    static int prefixReaching(float[] value, float[] weight, int[] ids, int m, double target) {
        int lo = 0;
        int hi = m; // the cut lies in (lo, hi]; ids[0, lo) are in, with need still to reach
        double need = target;
        int depth = depthBudget(m);
        while (hi - lo > 4 * INSERTION && depth-- > 0) {
            long ij = partition(value, ids, lo, hi - 1);
            int j = (int) ij;
            double left = 0;
            for (int t = lo; t <= j; t++) {
                left += weight[ids[t]];
            }
            if (left >= need) {
                hi = j + 1;
            } else {
                need -= left;
                lo = j + 1;
            }
        }
        sort(value, ids, lo, hi);
        double cum = 0;
        for (int t = lo; t < hi; t++) {
            cum += weight[ids[t]];
            if (cum >= need) {
                return t + 1;
            }
        }
        return hi;
    }

    /** Sorts {@code ids[from, to)} best first. */
    static void sort(float[] value, int[] ids, int from, int to) {
        if (to - from > 1) {
            quickSort(value, ids, from, to - 1, depthBudget(to - from));
        }
    }

    private static int depthBudget(int n) {
        return 2 * (32 - Integer.numberOfLeadingZeros(n));
    }

    /** Quickselect on the inclusive range [lo, hi]: afterwards every id left of {@code target} ranks before every id right of it. */
    private static void select(float[] value, int[] ids, int lo, int hi, int target, int depth) {
        while (hi - lo >= INSERTION) {
            if (depth-- == 0) {
                heapSort(value, ids, lo, hi + 1);
                return;
            }
            long ij = partition(value, ids, lo, hi);
            int i = (int) (ij >>> 32);
            int j = (int) ij;
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                return; // target sits between the two halves, equal to the pivot
            }
        }
        insertionSort(value, ids, lo, hi + 1);
    }

    private static void quickSort(float[] value, int[] ids, int lo, int hi, int depth) {
        while (hi - lo >= INSERTION) {
            if (depth-- == 0) {
                heapSort(value, ids, lo, hi + 1);
                return;
            }
            long ij = partition(value, ids, lo, hi);
            int i = (int) (ij >>> 32);
            int j = (int) ij;
            if (j - lo < hi - i) { // recurse into the smaller side: stack depth stays O(log n)
                quickSort(value, ids, lo, j, depth);
                lo = i;
            } else {
                quickSort(value, ids, i, hi, depth);
                hi = j;
            }
        }
        insertionSort(value, ids, lo, hi + 1);
    }

    /**
     * Hoare partition of [lo, hi] (at least 3 long) around the median of three. Returns {@code i << 32 | j}
     * with j < i: ids[lo..j] rank before-or-equal the pivot, ids[i..hi] after-or-equal.
     */
    private static long partition(float[] value, int[] ids, int lo, int hi) {
        int mid = (lo + hi) >>> 1;
        if (before(value, ids[mid], ids[lo])) {
            swap(ids, mid, lo);
        }
        if (before(value, ids[hi], ids[mid])) {
            swap(ids, hi, mid);
            if (before(value, ids[mid], ids[lo])) {
                swap(ids, mid, lo);
            }
        }
        int pivot = ids[mid];
        int i = lo;
        int j = hi;
        while (i <= j) {
            while (before(value, ids[i], pivot)) {
                i++;
            }
            while (before(value, pivot, ids[j])) {
                j--;
            }
            if (i <= j) {
                swap(ids, i, j);
                i++;
                j--;
            }
        }
        return ((long) i << 32) | (j & 0xFFFF_FFFFL);
    }

    private static void insertionSort(float[] value, int[] ids, int from, int to) {
        for (int a = from + 1; a < to; a++) {
            int x = ids[a];
            int b = a - 1;
            while (b >= from && before(value, x, ids[b])) {
                ids[b + 1] = ids[b];
                b--;
            }
            ids[b + 1] = x;
        }
    }

    /** Heapsort of [from, to) best first; the heap keeps the worst-ranked id at its root. */
    private static void heapSort(float[] value, int[] ids, int from, int to) {
        int n = to - from;
        for (int i = n / 2 - 1; i >= 0; i--) {
            siftDown(value, ids, from, i, n);
        }
        for (int end = n - 1; end > 0; end--) {
            swap(ids, from, from + end);
            siftDown(value, ids, from, 0, end);
        }
    }

    private static void siftDown(float[] value, int[] ids, int base, int i, int n) {
        int x = ids[base + i];
        while (true) {
            int c = 2 * i + 1;
            if (c >= n) {
                break;
            }
            if (c + 1 < n && before(value, ids[base + c], ids[base + c + 1])) {
                c++; // the worse of the two children
            }
            if (!before(value, x, ids[base + c])) {
                break;
            }
            ids[base + i] = ids[base + c];
            i = c;
        }
        ids[base + i] = x;
    }

    private static void swap(int[] ids, int a, int b) {
        int t = ids[a];
        ids[a] = ids[b];
        ids[b] = t;
    }
}
