package dev.tandem.http;

import dev.tandem.engine.GenerationRequest;
import dev.tandem.engine.ModelInfo;
import dev.tandem.model.SamplingParams;
import dev.tandem.tokenizer.ChatTemplate;
import dev.tandem.tokenizer.ChatTemplateException;
import dev.tandem.tokenizer.Tokenizer;
import dev.tandem.tokenizer.TokenizerException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Parsed requests → {@link GenerationRequest}s: checks the model name, renders chat templates,
 * tokenizes, checks prompt length against the context, fills defaults (OpenAI's: temperature 1, top_p 1;
 * max tokens 16 for completions, the rest of the context for chat) and gives choice j of a prompt seed + j.
 * Runs off the event loop (tokenizing a long prompt takes a while).
 */
final class PromptBuilder {
    static final int COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

    private PromptBuilder() {}

    static PreparedCall completion(CompletionRequest req, ModelInfo model) {
        GenerationOptions o = req.options();
        String name = checkModel(o.model(), model);
        Tokenizer tok = model.tokenizer();
        List<PreparedCall.Choice> choices = new ArrayList<>();
        long seed = seed(o);
        int promptTotal = 0;
        for (int p = 0; p < req.prompts().size(); p++) {
            int[] ids;
            String text;
            switch (req.prompts().get(p)) {
                case CompletionRequest.Text t -> {
                    ids = encode(tok, t.text(), true, "prompt");
                    text = t.text();
                }
                case CompletionRequest.Tokens t -> {
                    ids = t.ids();
                    for (int id : ids) {
                        if (id >= tok.vocabSize()) {
                            throw ApiException.badRequest("prompt", "token id " + id + " is outside the vocabulary (0.."
                                    + (tok.vocabSize() - 1) + ")");
                        }
                    }
                    text = o.echo() ? tok.decode(ids) : "";
                }
            }
            promptTotal += ids.length;
            int maxTokens = maxTokens(o, ids.length, model.contextLength(), "prompt", COMPLETIONS_DEFAULT_MAX_TOKENS);
            for (int j = 0; j < o.n(); j++) {
                choices.add(new PreparedCall.Choice(p * o.n() + j, request(o, ids, maxTokens, seed + j),
                        o.echo() ? text : "", ids));
            }
        }
        return new PreparedCall(name, false, o, List.copyOf(choices), promptTotal);
    }

    static PreparedCall chat(ChatRequest req, ModelInfo model) {
        GenerationOptions o = req.options();
        String name = checkModel(o.model(), model);
        ChatTemplate template = model.chatTemplate();
        if (template == null) {
            throw ApiException.badRequest("messages", "the model has no chat template; start the server with --chat-template");
        }
        List<ChatTemplate.Message> messages = new ArrayList<>();
        for (ChatTemplate.Message m : req.messages()) {
            // "developer" is OpenAI's newer name for "system"; templates know only the latter
            messages.add(m.role().equals("developer") ? new ChatTemplate.Message("system", m.content()) : m);
        }
        String text;
        try {
            text = template.render(messages, true);
        } catch (ChatTemplateException e) {
            if (e.raisedByTemplate()) {
                throw ApiException.badRequest("messages", "the chat template refused the conversation: " + e.getMessage());
            }
            throw new ApiException(500, "server_error", null, null, "cannot render the chat template: " + e.getMessage());
        }
        Tokenizer tok = model.tokenizer();
        // llama.cpp server: add BOS unless the rendered text already begins with the BOS token's text
        String bosText = tok.bos() >= 0 ? tok.tokenText(tok.bos()) : "";
        boolean addSpecial = bosText.isEmpty() || !text.startsWith(bosText);
        int[] ids = encode(tok, text, addSpecial, "messages");
        int ctx = model.contextLength();
        int maxTokens = maxTokens(o, ids.length, ctx, "messages", Integer.MAX_VALUE);
        long seed = seed(o);
        List<PreparedCall.Choice> choices = new ArrayList<>();
        for (int j = 0; j < o.n(); j++) {
            choices.add(new PreparedCall.Choice(j, request(o, ids, maxTokens, seed + j), "", ids));
        }
        return new PreparedCall(name, true, o, List.copyOf(choices), ids.length);
    }

    /** The model name must be the served id; an absent name means the served model. */
    static String checkModel(String requested, ModelInfo model) {
        if (requested == null || requested.equals(model.id())) {
            return model.id();
        }
        throw new ApiException(404, "invalid_request_error", "model", "model_not_found",
                "the model '" + requested + "' does not exist; this server serves '" + model.id() + "'");
    }

    private static int[] encode(Tokenizer tok, String text, boolean addSpecial, String param) {
        int[] ids;
        try {
            ids = tok.encode(text, addSpecial, true);
        } catch (TokenizerException e) {
            throw ApiException.badRequest(param, "cannot tokenize the " + param + ": " + e.getMessage());
        }
        if (ids.length == 0) {
            throw ApiException.badRequest(param, "the " + param + " is empty (no tokens)");
        }
        return ids;
    }

    /** Requested or default, clamped to the context left after the prompt; a prompt that fills the context is a 400. */
    private static int maxTokens(GenerationOptions o, int promptLength, int ctx, String param, int dflt) {
        if (promptLength >= ctx) {
            throw new ApiException(400, "invalid_request_error", param, "context_length_exceeded",
                    "the prompt is " + promptLength + " tokens; this model's context is " + ctx
                            + " tokens, which leaves no room to generate");
        }
        int want = o.maxTokens() != null ? o.maxTokens() : dflt;
        return Math.min(want, ctx - promptLength);
    }

    private static long seed(GenerationOptions o) {
        return o.seed() != null ? o.seed() : ThreadLocalRandom.current().nextLong();
    }

    private static GenerationRequest request(GenerationOptions o, int[] ids, int maxTokens, long seed) {
        SamplingParams s = new SamplingParams(o.temperature(), o.topK(), o.topP(), o.minP(), o.repeatPenalty(),
                o.presencePenalty(), o.frequencyPenalty(), SamplingParams.DEFAULT_PENALTY_LAST_N, seed);
        try {
            s.validate();
            return new GenerationRequest(ids, s, maxTokens, o.stop(), o.ignoreEos(), o.logprobs(), o.logprobs() ? o.topLogprobs() : 0);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(null, e.getMessage());
        }
    }
}
