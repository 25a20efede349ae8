package dev.tandem.http;

import dev.tandem.engine.GenerationRequest;

import java.util.List;

/**
 * One HTTP generation request made ready for the engine: one {@link GenerationRequest} per choice.
 *
 * @param chat          chat.completion(.chunk) shapes rather than text_completion
 * @param promptTokens  usage.prompt_tokens: each distinct prompt counted once (not n times)
 */
record PreparedCall(String model, boolean chat, GenerationOptions options, List<Choice> choices, int promptTokens) {
    /**
     * @param index        the choice's index in the response (prompt index × n + j)
     * @param request      what the engine generates
     * @param echoText     completions with echo: the prompt text that precedes the completion, else ""
     * @param promptIds    the prompt's token ids (for echo with logprobs)
     */
    record Choice(int index, GenerationRequest request, String echoText, int[] promptIds) {
    }
}
