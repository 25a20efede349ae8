package dev.tandem.model;

/**
 * Picks the next token of one sequence from its logits, the way llama.cpp's default sampler
 * chain does it:
 * <pre>
 *   penalties (repetition, presence, frequency over the last penaltyLastN accepted tokens)
 *   → temperature 0: argmax, ties to the lowest id
 *   → top-k → top-p → min-p        (each on the temperature-1 distribution of what is left)
 *   → temperature → softmax → one draw from the seeded stream
 * </pre>
 * One instance per sequence; not thread-safe. Every buffer is allocated here, at construction,
 * so {@link #sample} and {@link #accept} allocate nothing (DESIGN.md invariant 4) — once C2 has
 * compiled the vector loops: before that the Vector API boxes its vectors, so a decode worker
 * should warm its samplers up (a few thousand calls) before it counts on a quiet step. Memory per
 * sequence: about 12 bytes per vocabulary entry, plus 12 more (and the window) when penalties are
 * on — 1.5 MiB (3 MiB) for a 128k vocabulary.
 *
 * <p><b>Penalty history.</b> Feed every prompt token and every generated token to {@link #accept},
 * in order, so the penalty window covers the prompt as in llama.cpp (whose server accepts the
 * prompt into the sampler too). Note that this differs from vLLM/OpenAI, whose presence and
 * frequency penalties count generated tokens only; a caller wanting that accepts only generated tokens.
 *
 * <p><b>Odd logits.</b> NaN counts as -inf (the token is never drawn); +inf counts as the largest
 * finite float (so several +inf tokens share the mass equally); when every logit is -inf or NaN,
 * the answer is token 0 (the argmax rule's lowest id). The result is always in [0, vocabSize).
 *
 * <p><b>Reproducibility.</b> The stream is SplitMix64 (Steele, Lea and Flood; Vigna's
 * {@code splitmix64.c}) started at the seed, and every exponential and sum is computed by
 * {@link SamplerKernels} in a fixed order of plain IEEE operations, so the same seed and the same
 * logits give the same tokens on every run, JVM and vector width.
 *
 * <p><b>Cost</b> (128k vocabulary): a few vector passes over the row. With no filter, the draw
 * scans block sums, then one block. Top-k up to n/16 is a heap behind a vector compare; larger k a
 * quickselect; nothing is fully sorted. Top-p and min-p become one logit threshold (see
 * {@link #filter}), and top-p's cut among the tokens above it is a quickselect that tracks mass.
 */
public final class Sampler {

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;
    /** Top-k up to n / this uses the heap scan; larger k, quickselect. */
    private static final int HEAP_TOP_K_DIVISOR = 16;

    private final SamplingParams params;
    private final int vocabSize;
    private final float invTemperature; // 1 / temperature, at most the largest float; 0 when greedy

    private final float[] work;       // [vocabSize] the row after sanitizing and penalties
    private final float[] weights;    // [vocabSize] exp weights: by token id (the row, or top-p's T = 1 weights),
                                      // then at the draw those of ids[0, m) in ids order
    private final double[] blockSums; // [vocabSize / BLOCK rounded up] sums of weights per block
    private final int[] ids;          // [vocabSize] candidate token ids; ids[0, m) survive the filters

    // Penalty window; all null when params.penalizes() is false.
    private final int[] counts; // [vocabSize] occurrences of each token in the window
    private final int[] slot;   // [vocabSize] position of a token in seen[], valid while its count > 0
    private final int[] seen;   // [min(vocabSize, window)] the distinct tokens with count > 0, unordered
    private int seenCount;
    private final int[] ring;   // [penaltyLastN] the window, oldest overwritten first; null for the whole context
    private int ringNext;
    private int ringSize;

    private long state; // SplitMix64

    /**
     * @param params    validated here
     * @param vocabSize the longest logits row {@link #sample} will see (the model's vocabulary)
     */
    public Sampler(SamplingParams params, int vocabSize) {
        params.validate();
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabSize must be > 0, got " + vocabSize);
        }
        this.params = params;
        this.vocabSize = vocabSize;
        this.invTemperature = params.temperature() > 0f ? Math.min(1f / params.temperature(), Float.MAX_VALUE) : 0f;
        this.work = new float[vocabSize];
        this.weights = new float[vocabSize];
        this.blockSums = new double[SamplerKernels.blocks(vocabSize)];
        this.ids = new int[vocabSize];
        if (params.penalizes()) {
            int window = params.penaltyLastN();
            this.counts = new int[vocabSize];
            this.slot = new int[vocabSize];
            this.seen = new int[window > 0 ? Math.min(vocabSize, window) : vocabSize];
            this.ring = window > 0 ? new int[window] : null;
        } else {
            this.counts = null;
            this.slot = null;
            this.seen = null;
            this.ring = null;
        }
        this.state = params.seed();
    }

    public SamplingParams params() {
        return params;
    }

    public int vocabSize() {
        return vocabSize;
    }

    /**
     * Where the random stream stands: a sampler built with {@code params().withSeed(rngState())} and
     * fed the same accepted tokens draws what this one would draw next (how a sequence's sampling
     * moves to another process).
     */
    public long rngState() {
        return state;
    }

    /**
     * Records a token of the sequence for the penalties: every prompt token, then every token
     * generated (whether sampled here or forced). A no-op when penalties are off.
     */
    public void accept(int token) {
        if (token < 0 || token >= vocabSize) {
            throw new IllegalArgumentException("token " + token + " is outside the vocabulary [0, " + vocabSize + ")");
        }
        if (counts == null) {
            return;
        }
        if (ring != null) {
            if (ringSize == ring.length) {
                forget(ring[ringNext]);
            } else {
                ringSize++;
            }
            ring[ringNext] = token;
            ringNext = ringNext + 1 == ring.length ? 0 : ringNext + 1;
        }
        remember(token);
    }

    /**
     * Draws the next token. Does not modify {@code logits} and does not record the token (call
     * {@link #accept} with it).
     *
     * @param logits [.. offset + n ..] one row of the forward pass's output
     * @param n      tokens in the row (≤ vocabSize; a padded row passes its real vocabulary)
     * @return a token id in [0, n)
     */
    public int sample(float[] logits, int offset, int n) {
        float max = load(logits, offset, n);
        if (params.temperature() == 0f || max == NEG_INF) {
            return SamplerKernels.firstIndexOf(work, n, max);
        }
        if (!filtersOn(n)) { // the whole row: no ids, no sorting
            SamplerKernels.expShifted(work, n, max, invTemperature, weights);
            double total = SamplerKernels.sumBlocks(weights, n, blockSums);
            return SamplerKernels.pick(weights, n, blockSums, total, nextDouble());
        }
        int m = filter(n, max);
        for (int j = 0; j < m; j++) {
            weights[j] = work[ids[j]];
        }
        SamplerKernels.expShifted(weights, m, max, invTemperature, weights);
        double total = SamplerKernels.sumBlocks(weights, m, blockSums);
        return ids[SamplerKernels.pick(weights, m, blockSums, total, nextDouble())];
    }

    // ---- the chain, one step per method ----

    /** Copies the row into work (NaN → -inf, +inf → largest float) and applies penalties; returns the largest value. */
    private float load(float[] logits, int offset, int n) {
        if (n <= 0 || n > vocabSize) {
            throw new IllegalArgumentException("n must be in [1, " + vocabSize + "], got " + n);
        }
        if (offset < 0 || offset > logits.length - n) {
            throw new IllegalArgumentException("logits row [" + offset + ", " + offset + " + " + n
                    + ") is outside an array of " + logits.length);
        }
        float max = SamplerKernels.loadRow(logits, offset, n, work);
        if (counts != null && seenCount > 0) {
            applyPenalties(work, n);
            max = SamplerKernels.max(work, n);
        }
        return max;
    }

    /**
     * Applies the penalties to {@code buf[0, n)} for the tokens in the window: repetition first
     * (x > 0: x / r, else x · r), then {@code x -= count · frequency + presence}, in float as
     * llama.cpp does; a result past the largest float is clamped to it.
     */
    void applyPenalties(float[] buf, int n) {
        if (counts == null) {
            return;
        }
        float rep = params.repetitionPenalty();
        float presence = params.presencePenalty();
        float frequency = params.frequencyPenalty();
        for (int s = 0; s < seenCount; s++) {
            int t = seen[s];
            if (t >= n) {
                continue;
            }
            float x = buf[t];
            if (rep != 1f) {
                x = x <= 0f ? x * rep : x / rep;
            }
            buf[t] = Math.min(x - (counts[t] * frequency + presence), Float.MAX_VALUE);
        }
    }

    private boolean filtersOn(int n) {
        return (params.topK() > 0 && params.topK() < n) || params.topP() < 1f || params.minP() > 0f;
    }

    /**
     * Top-k, then top-p and min-p, over work[0, n) whose largest value is {@code max} (finite).
     * Leaves the survivors in ids[0, m), returns m ≥ 1 (the argmax always survives). Uses
     * {@code weights} and {@code blockSums} as scratch.
     *
     * <p>Top-p and min-p each keep a prefix of the ranking, and p / p_max does not change when top-p
     * renormalizes, so the two commute: both become one logit threshold applied in one vector pass,
     * and top-p's cut is then found among what passed by a mass-keeping quickselect, not a sort.
     * The survivors come out in no particular order (the draw does not need one).
     */
    int filter(int n, float max) {
        int k = params.topK();
        boolean topK = k > 0 && k < n;
        int m = n;
        if (topK) {
            if (k <= n / HEAP_TOP_K_DIVISOR) {
                SamplerKernels.topKHeap(work, n, k, ids);
            } else {
                for (int i = 0; i < n; i++) {
                    ids[i] = i;
                }
                SamplerKernels.selectTop(work, ids, 0, n, k, false);
            }
            m = k;
        }
        boolean nucleus = params.topP() < 1f;
        double z = 0; // top-p's normalizer: the mass of what top-k left, at temperature 1
        if (nucleus) { // weights[id] = e^(logit − max), the temperature-1 weights
            if (topK) {
                for (int j = 0; j < m; j++) {
                    int id = ids[j];
                    float w = SamplerKernels.exp(work[id] - max);
                    weights[id] = w;
                    z += w;
                }
            } else {
                SamplerKernels.expShifted(work, n, max, 1f, weights);
                z = SamplerKernels.sumBlocks(weights, n, blockSums);
            }
        }
        double floor = Double.NEGATIVE_INFINITY; // keep logit >= floor
        if (params.minP() > 0f) {
            floor = max + StrictMath.log(params.minP()); // p < minP · p_max  ⇔  logit < max + ln(minP)
        }
        if (nucleus) {
            // Every nucleus token has weight >= (1 - p) · z / n: were one below, it and all after it
            // would be below too, yet together they weigh more than (1 - p) · z. The margin covers
            // the error of our exp; letting a few extra tokens through changes nothing.
            floor = Math.max(floor, max + StrictMath.log((1.0 - params.topP()) * z / n) - 1e-3);
        }
        float threshold = Math.max(ceilToFloat(floor), -Float.MAX_VALUE); // never keep a -inf token
        if (topK) {
            int kept = 0;
            for (int j = 0; j < m; j++) {
                int id = ids[j];
                if (work[id] >= threshold) {
                    ids[kept++] = id;
                }
            }
            m = kept;
        } else {
            m = SamplerKernels.idsAtLeast(work, n, threshold, ids);
        }
        return nucleus ? SamplerKernels.prefixReaching(work, weights, ids, m, params.topP() * z) : m;
    }

    /** The smallest float ≥ x (x = -inf gives -inf). */
    private static float ceilToFloat(double x) {
        float f = (float) x;
        return f < x ? Math.nextUp(f) : f;
    }

    /** Test hook: candidate j left by the last {@link #filter} call, in its order. */
    int candidate(int j) {
        return ids[j];
    }

    /** Test hook: load and filter without drawing; returns the number of survivors (see {@link #candidate}). */
    int filterForTest(float[] logits, int offset, int n) {
        float max = load(logits, offset, n);
        return max == NEG_INF ? 0 : filter(n, max);
    }

    // ---- penalty window ----

    private void remember(int t) {
        if (counts[t]++ == 0) {
            slot[t] = seenCount;
            seen[seenCount++] = t;
        }
    }

    private void forget(int t) {
        if (--counts[t] == 0) {
            int s = slot[t];
            int moved = seen[--seenCount];
            seen[s] = moved;
            slot[moved] = s;
        }
    }

    // ---- numbers ----

    /** The next 64 bits of SplitMix64. */
    long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    private double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }
}
