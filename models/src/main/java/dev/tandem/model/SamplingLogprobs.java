package dev.tandem.model;

/**
 * Log-probabilities for the OpenAI {@code logprobs} / {@code top_logprobs} fields.
 *
 * <p>They describe the model's own distribution: the log-softmax of the <em>raw</em> logits, before
 * penalties, temperature and the top-k / top-p / min-p filters — what OpenAI reports and vLLM's
 * default ({@code raw_logprobs}). So the sampled token's logprob does not depend on the sampling
 * parameters, and a token the filters removed still has a finite logprob.
 *
 * <p>As in {@link Sampler}, NaN counts as -inf and +inf as the largest finite float. Nothing here
 * allocates; every method is one or two linear passes over the row.
 */
public final class SamplingLogprobs {
    private SamplingLogprobs() {}

    /**
     * log Σ e^x over {@code logits[offset, offset + n)}; -inf when every logit is -inf or NaN.
     *
     * @param logits [.. offset + n ..]
     */
    public static double logSumExp(float[] logits, int offset, int n) {
        checkRow(logits, offset, n);
        float max = Float.NEGATIVE_INFINITY;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, SamplerKernels.clean(logits[offset + i]));
        }
        if (max == Float.NEGATIVE_INFINITY) {
            return Double.NEGATIVE_INFINITY;
        }
        for (int i = 0; i < n; i++) { // scalar: the row is not ours to overwrite, and there is no scratch here
            sum += SamplerKernels.exp(SamplerKernels.clean(logits[offset + i]) - max);
        }
        return max + StrictMath.log(sum); // sum ≥ 1: the max contributes e^0
    }

    /** The log-probability of one token, given {@link #logSumExp} of its row. */
    public static float logprob(float[] logits, int offset, int token, double logSumExp) {
        return (float) (SamplerKernels.clean(logits[offset + token]) - logSumExp);
    }

    /**
     * Writes the log-softmax of {@code logits[offset, offset + n)} into {@code out[outOffset, outOffset + n)}
     * ({@code out} may be {@code logits} itself, in place).
     */
    public static void logSoftmax(float[] logits, int offset, int n, float[] out, int outOffset) {
        double lse = logSumExp(logits, offset, n);
        if (outOffset < 0 || outOffset > out.length - n) {
            throw new IllegalArgumentException("output row [" + outOffset + ", " + outOffset + " + " + n
                    + ") is outside an array of " + out.length);
        }
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = lse == Double.NEGATIVE_INFINITY
                    ? Float.NaN // no distribution at all: every token was impossible
                    : (float) (SamplerKernels.clean(logits[offset + i]) - lse);
        }
    }

    /**
     * The {@code count} most likely tokens of the row, best first (equal logits: lowest id first),
     * into {@code ids[0, c)} and their log-probabilities into {@code values[0, c)}, c = min(count, n).
     *
     * @param logSumExp of the same row, from {@link #logSumExp}
     * @return c, the number of entries written
     */
    public static int topLogprobs(float[] logits, int offset, int n, double logSumExp,
                                  int count, int[] ids, float[] values) {
        checkRow(logits, offset, n);
        if (count < 0 || count > ids.length || count > values.length) {
            throw new IllegalArgumentException("count must be in [0, " + Math.min(ids.length, values.length)
                    + "] (the output arrays), got " + count);
        }
        int c = Math.min(count, n);
        if (c == 0) {
            return 0;
        }
        // Insertion into a sorted list of c: O(n) while the row's tail loses to the c-th best, as it mostly does.
        int filled = 0;
        for (int i = 0; i < n; i++) {
            float x = SamplerKernels.clean(logits[offset + i]);
            if (filled == c && !(x > values[c - 1])) {
                continue; // not strictly better than the c-th: earlier (lower) ids win ties
            }
            int j = filled == c ? c - 1 : filled++;
            while (j > 0 && x > values[j - 1]) {
                values[j] = values[j - 1];
                ids[j] = ids[j - 1];
                j--;
            }
            values[j] = x;
            ids[j] = i;
        }
        for (int j = 0; j < c; j++) {
            values[j] = (float) (values[j] - logSumExp);
        }
        return c;
    }

    private static void checkRow(float[] logits, int offset, int n) {
        if (n <= 0 || offset < 0 || offset > logits.length - n) {
            throw new IllegalArgumentException("logits row [" + offset + ", " + offset + " + " + n
                    + ") is empty or outside an array of " + logits.length);
        }
    }
}
