package dev.tandem.engine;

import dev.tandem.tokenizer.Tokenizer;

/**
 * What the front end may know of the served model: its public name, context length, vocabulary
 * (to tokenize prompts and name logprob tokens) and chat template (null when it has none).
 */
public record ModelInfo(String id, int contextLength, Tokenizer tokenizer, dev.tandem.tokenizer.ChatTemplate chatTemplate) {
}
