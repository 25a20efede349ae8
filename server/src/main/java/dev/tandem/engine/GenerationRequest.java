package dev.tandem.engine;

import dev.tandem.model.SamplingParams;

import java.util.List;

/**
 * One sequence to generate, already validated and tokenized by the front end.
 *
 * @param promptTokens  the prompt, BOS included when the model wants it
 * @param sampling      sampling parameters (validated)
 * @param maxTokens     generated tokens at most (≥ 1); the engine also stops at the context end
 * @param stop          stop strings (at most a few); the text never contains them, even when split across tokens
 * @param ignoreEos     keep going past end-of-generation tokens
 * @param logprobs      report log-probabilities of each generated token
 * @param topLogprobs   alternatives per token to report (0–20) when {@code logprobs}
 */
public record GenerationRequest(
        int[] promptTokens,
        SamplingParams sampling,
        int maxTokens,
        List<String> stop,
        boolean ignoreEos,
        boolean logprobs,
        int topLogprobs) {

    public GenerationRequest {
        stop = List.copyOf(stop);
        if (promptTokens.length == 0) {
            throw new IllegalArgumentException("prompt must have at least one token");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be at least 1, not " + maxTokens);
        }
        if (topLogprobs < 0 || topLogprobs > 20) {
            throw new IllegalArgumentException("topLogprobs must be between 0 and 20, not " + topLogprobs);
        }
    }
}
