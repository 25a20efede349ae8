package dev.tandem.model;

/**
 * How one sequence picks its next token from the logits: the knobs of llama.cpp's default sampler
 * chain and of the OpenAI API, as plain typed values. The HTTP layer builds one per request (and
 * picks a seed when the client gave none), calls {@link #validate()}, and the engine hands it to a
 * {@link Sampler}.
 *
 * @param temperature       ≥ 0; 0 means greedy (argmax, ties to the lowest id). Applied last, after the filters.
 * @param topK              ≥ 0; keep the k most likely tokens; 0 (or ≥ vocabulary) means off.
 * @param topP              in (0, 1]; keep the smallest most-likely set whose probability reaches p; 1 means off.
 * @param minP              in [0, 1]; drop tokens with p < minP · p_max; 0 means off.
 * @param repetitionPenalty > 0; CTRL / llama.cpp style: a repeated token's positive logit is divided
 *                          by it, a negative one multiplied; 1 means off.
 * @param presencePenalty   in [-2, 2]; OpenAI style: subtracted once from a token seen in the window.
 * @param frequencyPenalty  in [-2, 2]; OpenAI style: subtracted once per occurrence in the window.
 * @param penaltyLastN      the penalty window: the last n accepted tokens (prompt included);
 *                          -1 = the whole context, 0 = penalties off. At most {@link #MAX_PENALTY_LAST_N}.
 * @param seed              the random stream; same seed and same logits give the same tokens on any JVM.
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty,
                             float presencePenalty, float frequencyPenalty, int penaltyLastN, long seed) {

    /** Longest explicit penalty window (a ring of this many ints per sequence): bounded like everything else. */
    public static final int MAX_PENALTY_LAST_N = 1 << 20;

    /** llama.cpp's default window for repetition penalties, used by {@link #defaults()} (penalties themselves are off). */
    public static final int DEFAULT_PENALTY_LAST_N = 64;

    /** OpenAI's defaults: temperature 1, top-p 1, no top-k, no min-p, penalties off, seed 0. */
    public static SamplingParams defaults() {
        return new SamplingParams(1f, 0, 1f, 0f, 1f, 0f, 0f, DEFAULT_PENALTY_LAST_N, 0L);
    }

    /** Argmax decoding: temperature 0, every filter and penalty off. */
    public static SamplingParams greedy() {
        return new SamplingParams(0f, 0, 1f, 0f, 1f, 0f, 0f, DEFAULT_PENALTY_LAST_N, 0L);
    }

    public SamplingParams withSeed(long newSeed) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty,
                frequencyPenalty, penaltyLastN, newSeed);
    }

    public SamplingParams withTemperature(float t) {
        return new SamplingParams(t, topK, topP, minP, repetitionPenalty, presencePenalty,
                frequencyPenalty, penaltyLastN, seed);
    }

    /** True when some penalty would change a logit (and the window is not empty). */
    public boolean penalizes() {
        return penaltyLastN != 0 && (repetitionPenalty != 1f || presencePenalty != 0f || frequencyPenalty != 0f);
    }

    /**
     * Checks every range; comparisons are written so that NaN fails them.
     *
     * @return this, for chaining
     * @throws IllegalArgumentException one line naming the parameter, its range and the value given
     */
    public SamplingParams validate() {
        if (!(temperature >= 0f && temperature < Float.POSITIVE_INFINITY)) {
            throw bad("temperature", "a finite number >= 0", temperature);
        }
        if (topK < 0) {
            throw bad("topK", ">= 0 (0 = off)", topK);
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw bad("topP", "in (0, 1]", topP);
        }
        if (!(minP >= 0f && minP <= 1f)) {
            throw bad("minP", "in [0, 1]", minP);
        }
        if (!(repetitionPenalty > 0f && repetitionPenalty < Float.POSITIVE_INFINITY)) {
            throw bad("repetitionPenalty", "a finite number > 0 (1 = off)", repetitionPenalty);
        }
        if (!(presencePenalty >= -2f && presencePenalty <= 2f)) {
            throw bad("presencePenalty", "in [-2, 2]", presencePenalty);
        }
        if (!(frequencyPenalty >= -2f && frequencyPenalty <= 2f)) {
            throw bad("frequencyPenalty", "in [-2, 2]", frequencyPenalty);
        }
        if (penaltyLastN < -1 || penaltyLastN > MAX_PENALTY_LAST_N) {
            throw bad("penaltyLastN", "in [-1, " + MAX_PENALTY_LAST_N + "] (-1 = whole context, 0 = off)",
                    penaltyLastN);
        }
        return this;
    }

    private static IllegalArgumentException bad(String name, String range, Object value) {
        return new IllegalArgumentException(name + " must be " + range + ", got " + value);
    }
}
