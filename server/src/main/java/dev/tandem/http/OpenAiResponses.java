package dev.tandem.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.engine.Logprobs;
import dev.tandem.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The response shapes OpenAI documents: chat.completion, chat.completion.chunk, text_completion (whole and
 * streamed), usage, and the two logprobs formats (chat: {@code content[{token, logprob, bytes, top_logprobs}]};
 * completions: {@code tokens, token_logprobs, top_logprobs, text_offset}).
 */
final class OpenAiResponses {
    private final String id;
    private final long created;
    private final String model;
    private final boolean chat;
    private final boolean usageField; // stream_options.include_usage: every chunk carries "usage": null
    private final Tokenizer tokenizer;

    OpenAiResponses(String id, long created, String model, boolean chat, boolean usageField, Tokenizer tokenizer) {
        this.id = id;
        this.created = created;
        this.model = model;
        this.chat = chat;
        this.usageField = usageField;
        this.tokenizer = tokenizer;
    }

    private ObjectNode head(String object) {
        ObjectNode o = Json.object();
        o.put("id", id);
        o.put("object", object);
        o.put("created", created);
        o.put("model", model);
        o.putNull("system_fingerprint");
        return o;
    }

    /** A streamed chunk for one choice. {@code role}, {@code text}, {@code logprobs}, {@code finish} may each be null. */
    ObjectNode chunk(int index, String role, String text, ObjectNode logprobs, String finish) {
        ObjectNode o = head(chat ? "chat.completion.chunk" : "text_completion");
        ObjectNode c = o.putArray("choices").addObject();
        c.put("index", index);
        if (chat) {
            ObjectNode delta = c.putObject("delta");
            if (role != null) {
                delta.put("role", role);
            }
            if (text != null) {
                delta.put("content", text);
            }
        } else {
            c.put("text", text == null ? "" : text);
        }
        c.set("logprobs", logprobs);
        c.put("finish_reason", finish);
        if (usageField) {
            o.putNull("usage");
        }
        return o;
    }

    /** The last streamed chunk with include_usage: no choices, the totals. */
    ObjectNode usageChunk(int promptTokens, int completionTokens) {
        ObjectNode o = head(chat ? "chat.completion.chunk" : "text_completion");
        o.putArray("choices");
        o.set("usage", usage(promptTokens, completionTokens));
        return o;
    }

    /** The whole (non-streamed) response. */
    ObjectNode full(List<ChoiceState> states, int promptTokens) {
        ObjectNode o = head(chat ? "chat.completion" : "text_completion");
        ArrayNode choices = o.putArray("choices");
        int completion = 0;
        for (ChoiceState s : states) {
            completion += s.completionTokens;
            ObjectNode c = choices.addObject();
            c.put("index", s.choice.index());
            if (chat) {
                ObjectNode m = c.putObject("message");
                m.put("role", "assistant");
                m.put("content", s.text.toString());
                m.putNull("refusal");
                c.set("logprobs", s.choice.request().logprobs() ? chatLogprobs(s.tokens, s.logprobs) : null);
            } else {
                c.put("text", s.text.toString());
                c.set("logprobs", s.choice.request().logprobs() ? completionLogprobs(s, true) : null);
            }
            c.put("finish_reason", ChoiceState.reason(s.finish));
        }
        o.set("usage", usage(promptTokens, completion));
        return o;
    }

    static ObjectNode usage(int promptTokens, int completionTokens) {
        ObjectNode u = Json.object();
        u.put("prompt_tokens", promptTokens);
        u.put("completion_tokens", completionTokens);
        u.put("total_tokens", promptTokens + completionTokens);
        return u;
    }

    /** Chat logprobs for some tokens: {@code {"content":[…], "refusal":null}}. */
    ObjectNode chatLogprobs(List<Integer> ids, List<Logprobs> lps) {
        ObjectNode o = Json.object();
        ArrayNode content = o.putArray("content");
        for (int i = 0; i < ids.size(); i++) {
            Logprobs lp = lps.get(i);
            ObjectNode e = tokenEntry(ids.get(i), lp.logprob());
            ArrayNode top = e.putArray("top_logprobs");
            for (int k = 0; k < lp.topIds().length; k++) {
                top.add(tokenEntry(lp.topIds()[k], lp.topLogprobs()[k]));
            }
            content.add(e);
        }
        o.putNull("refusal");
        return o;
    }

    private ObjectNode tokenEntry(int id, float logprob) {
        byte[] b = tokenizer.tokenBytes(id);
        ObjectNode e = Json.object();
        e.put("token", new String(b, StandardCharsets.UTF_8));
        e.put("logprob", logprob);
        ArrayNode bytes = e.putArray("bytes");
        for (byte x : b) {
            bytes.add(x & 0xff);
        }
        return e;
    }

    /**
     * Completions logprobs for a choice's tokens so far; with echo and {@code withPrompt}, the prompt tokens come
     * first with null logprobs (the engine does not score prompts).
     */
    ObjectNode completionLogprobs(ChoiceState s, boolean withPrompt) {
        ObjectNode o = Json.object();
        ArrayNode tokens = o.putArray("tokens");
        ArrayNode tokenLps = o.putArray("token_logprobs");
        ArrayNode tops = o.putArray("top_logprobs");
        ArrayNode offsets = o.putArray("text_offset");
        if (withPrompt && !s.choice.echoText().isEmpty()) {
            int off = 0;
            for (int id : s.choice.promptIds()) {
                String t = new String(tokenizer.tokenBytes(id), StandardCharsets.UTF_8);
                tokens.add(t);
                tokenLps.addNull();
                tops.addNull();
                offsets.add(Math.min(off, s.choice.echoText().length()));
                off += t.length();
            }
        }
        for (int i = 0; i < s.tokens.size(); i++) {
            appendCompletionToken(s.tokens.get(i), s.logprobs.get(i), s.textOffsets.get(i), tokens, tokenLps, tops, offsets);
        }
        return o;
    }

    /** Completions logprobs of one streamed token. */
    ObjectNode completionLogprobs(int id, Logprobs lp, int textOffset) {
        ObjectNode o = Json.object();
        appendCompletionToken(id, lp, textOffset, o.putArray("tokens"), o.putArray("token_logprobs"), o.putArray("top_logprobs"),
                o.putArray("text_offset"));
        return o;
    }

    private void appendCompletionToken(int id, Logprobs lp, int offset, ArrayNode tokens, ArrayNode tokenLps, ArrayNode tops,
                                       ArrayNode offsets) {
        tokens.add(new String(tokenizer.tokenBytes(id), StandardCharsets.UTF_8));
        tokenLps.add(lp.logprob());
        ObjectNode top = tops.addObject();
        for (int k = 0; k < lp.topIds().length; k++) {
            top.put(new String(tokenizer.tokenBytes(lp.topIds()[k]), StandardCharsets.UTF_8), lp.topLogprobs()[k]);
        }
        offsets.add(offset);
    }
}
