package dev.tandem.engine;

/** Token counts of one request: prompt tokens, and generated tokens (stop-string tokens included). */
public record Usage(int promptTokens, int completionTokens) {
    public int totalTokens() {
        return promptTokens + completionTokens;
    }
}
