package dev.tandem.http;

import java.util.List;

/** A parsed {@code POST /v1/completions}: one or more prompts, each as text or as token ids. */
record CompletionRequest(GenerationOptions options, List<Prompt> prompts) {
    sealed interface Prompt permits Text, Tokens {
    }

    record Text(String text) implements Prompt {
    }

    record Tokens(int[] ids) implements Prompt {
    }
}
