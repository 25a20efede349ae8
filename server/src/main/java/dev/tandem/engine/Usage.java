package dev.tandem.engine;

/** Token counts of one request: prompt tokens, and generated tokens (the token completing a stop string and the end-of-generation token included, as OpenAI and llama.cpp count them). */
public record Usage(int promptTokens, int completionTokens) {
    public int totalTokens() {
        return promptTokens + completionTokens;
    }
}
