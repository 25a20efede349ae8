package dev.tandem.http;

import java.util.List;

/**
 * What a completions or chat request asks of generation, parsed and range-checked (JSON stays at the
 * edge). Sampling fields are OpenAI's, plus llama.cpp's {@code top_k}, {@code min_p}, {@code repeat_penalty}.
 *
 * @param model        the model name the client sent, or null
 * @param maxTokens    generated tokens at most, or null for the endpoint's default
 * @param seed         the client's seed, or null (the server picks one)
 * @param stop         stop strings, at most 4, none empty
 * @param n            choices per prompt
 * @param logprobs     report log-probabilities of generated tokens
 * @param topLogprobs  alternatives per token (0–20) when {@code logprobs}
 * @param echo         completions only: the prompt text precedes the completion
 */
record GenerationOptions(String model, Integer maxTokens, float temperature, float topP, int topK, float minP,
                         float repeatPenalty, float presencePenalty, float frequencyPenalty, Long seed,
                         List<String> stop, int n, boolean stream, boolean includeUsage, boolean logprobs,
                         int topLogprobs, boolean echo, boolean ignoreEos, String user) {
    GenerationOptions {
        stop = List.copyOf(stop);
    }
}
