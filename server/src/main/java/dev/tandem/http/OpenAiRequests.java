package dev.tandem.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.tokenizer.ChatTemplate;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Request bodies → records. Everything OpenAI documents is type- and range-checked here (a 400 naming
 * the parameter); unknown fields are ignored. Ranges: temperature [0, 2], top_p [0, 1], penalties
 * [-2, 2], n [1, 128], top_logprobs / completions logprobs [0, 20], stop ≤ 4 strings.
 */
final class OpenAiRequests {
    static final int MAX_N = 128;
    static final int MAX_STOP = 4;
    static final int MAX_PROMPTS = 128;
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant");

    private OpenAiRequests() {}

    static JsonNode parse(byte[] body) {
        if (body.length == 0) {
            throw ApiException.badRequest(null, "the request body is empty; expected a JSON object");
        }
        try {
            JsonNode n = Json.MAPPER.readTree(body);
            if (n == null || !n.isObject()) {
                throw ApiException.badRequest(null, "the request body must be a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(null, "malformed JSON in the request body: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        } catch (java.io.IOException e) {
            throw ApiException.badRequest(null, "cannot read the request body: " + e.getMessage());
        }
    }

    static CompletionRequest completion(JsonNode body) {
        ParamReader r = new ParamReader(body);
        GenerationOptions o = options(r, false);
        JsonNode p = r.node("prompt");
        if (p == null) {
            throw ApiException.badRequest("prompt", "'prompt' is required");
        }
        List<CompletionRequest.Prompt> prompts = new ArrayList<>();
        if (p.isTextual()) {
            prompts.add(new CompletionRequest.Text(p.textValue()));
        } else if (p.isArray()) {
            if (p.isEmpty()) {
                throw ApiException.badRequest("prompt", "'prompt' must not be an empty array");
            }
            if (p.get(0).isNumber()) {
                prompts.add(new CompletionRequest.Tokens(tokenIds(p, "prompt")));
            } else {
                for (int i = 0; i < p.size(); i++) {
                    JsonNode e = p.get(i);
                    if (e.isTextual()) {
                        prompts.add(new CompletionRequest.Text(e.textValue()));
                    } else if (e.isArray() && !e.isEmpty()) {
                        prompts.add(new CompletionRequest.Tokens(tokenIds(e, "prompt[" + i + "]")));
                    } else {
                        throw ApiException.badRequest("prompt", "'prompt[" + i + "]' must be a string or a non-empty array of token ids, got "
                                + ParamReader.kind(e));
                    }
                }
            }
        } else {
            throw ApiException.badRequest("prompt", "'prompt' must be a string, an array of strings or an array of token ids, got "
                    + ParamReader.kind(p));
        }
        if (prompts.size() > MAX_PROMPTS) {
            throw ApiException.badRequest("prompt", "at most " + MAX_PROMPTS + " prompts per request, got " + prompts.size());
        }
        if ((long) prompts.size() * o.n() > MAX_N) {
            throw ApiException.badRequest("n", "prompts × n must be at most " + MAX_N + ", got " + prompts.size() + " × " + o.n());
        }
        return new CompletionRequest(o, List.copyOf(prompts));
    }

    static ChatRequest chat(JsonNode body) {
        ParamReader r = new ParamReader(body);
        GenerationOptions o = options(r, true);
        JsonNode ms = r.node("messages");
        if (ms == null) {
            throw ApiException.badRequest("messages", "'messages' is required");
        }
        if (!ms.isArray() || ms.isEmpty()) {
            throw ApiException.badRequest("messages", "'messages' must be a non-empty array");
        }
        List<ChatTemplate.Message> messages = new ArrayList<>();
        for (int i = 0; i < ms.size(); i++) {
            JsonNode m = ms.get(i);
            String at = "messages[" + i + "]";
            if (!m.isObject()) {
                throw ApiException.badRequest(at, "'" + at + "' must be an object, got " + ParamReader.kind(m));
            }
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual() || !ROLES.contains(role.textValue())) {
                throw ApiException.badRequest(at + ".role", "'" + at + ".role' must be one of system, developer, user, assistant, got "
                        + (role == null ? "nothing" : role.toString()));
            }
            messages.add(new ChatTemplate.Message(role.textValue(), content(m.get("content"), role.textValue(), at + ".content")));
        }
        return new ChatRequest(o, List.copyOf(messages));
    }

    /** A string, or an array of {@code {"type":"text","text":…}} parts joined; an assistant's may be null. */
    private static String content(JsonNode c, String role, String param) {
        if (c == null || c.isNull()) {
            if (role.equals("assistant")) {
                return "";
            }
            throw ApiException.badRequest(param, "'" + param + "' is required");
        }
        if (c.isTextual()) {
            return c.textValue();
        }
        if (!c.isArray()) {
            throw ApiException.badRequest(param, "'" + param + "' must be a string or an array of text parts, got " + ParamReader.kind(c));
        }
        StringBuilder sb = new StringBuilder();
        for (int j = 0; j < c.size(); j++) {
            JsonNode part = c.get(j);
            JsonNode type = part.get("type");
            JsonNode text = part.get("text");
            if (!part.isObject() || type == null || !"text".equals(type.asText()) || text == null || !text.isTextual()) {
                throw ApiException.badRequest(param, "'" + param + "[" + j + "]' must be {\"type\":\"text\",\"text\":\"…\"}; "
                        + "this server reads text parts only");
            }
            sb.append(text.textValue());
        }
        return sb.toString();
    }

    private static GenerationOptions options(ParamReader r, boolean chat) {
        String model = r.string("model", null);
        Integer maxTokens = null;
        Long mt = r.integer("max_tokens", 1, Integer.MAX_VALUE);
        if (chat) {
            Long mct = r.integer("max_completion_tokens", 1, Integer.MAX_VALUE);
            if (mct != null) {
                mt = mct;
            }
        }
        if (mt != null) {
            maxTokens = mt.intValue();
        }
        float temperature = (float) r.number("temperature", 1, 0, 2);
        float topP = (float) r.number("top_p", 1, 0, 1);
        if (topP == 0f) {
            topP = Float.MIN_NORMAL; // OpenAI allows 0: the single most likely token
        }
        int topK = r.integer("top_k", 0, 0, Integer.MAX_VALUE);
        float minP = (float) r.number("min_p", 0, 0, 1);
        float repeat = (float) r.number("repeat_penalty", 1, 0, 10);
        if (repeat == 0f) {
            throw ApiException.badRequest("repeat_penalty", "'repeat_penalty' must be greater than 0 (1 = off), got 0");
        }
        float presence = (float) r.number("presence_penalty", 0, -2, 2);
        float frequency = (float) r.number("frequency_penalty", 0, -2, 2);
        Long seed = r.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE);
        List<String> stop = stop(r);
        int n = r.integer("n", 1, 1, MAX_N);
        boolean stream = r.bool("stream", false);
        boolean includeUsage = false;
        JsonNode so = r.node("stream_options");
        if (so != null) {
            includeUsage = new ParamReader(checkObject(so, "stream_options")).bool("include_usage", false) && stream;
        }
        boolean logprobs;
        int top;
        boolean echo = false;
        if (chat) {
            logprobs = r.bool("logprobs", false);
            top = r.integer("top_logprobs", 0, 0, 20);
            if (r.has("top_logprobs") && !logprobs) {
                throw ApiException.badRequest("top_logprobs", "'top_logprobs' requires 'logprobs': true");
            }
        } else {
            Long lp = r.integer("logprobs", 0, 20);
            logprobs = lp != null;
            top = lp == null ? 0 : lp.intValue();
            echo = r.bool("echo", false);
        }
        boolean ignoreEos = r.bool("ignore_eos", false);
        String user = r.string("user", null);
        return new GenerationOptions(model, maxTokens, temperature, topP, topK, minP, repeat, presence, frequency, seed,
                stop, n, stream, includeUsage, logprobs, top, echo, ignoreEos, user);
    }

    private static JsonNode checkObject(JsonNode n, String name) {
        if (!n.isObject()) {
            throw ApiException.badRequest(name, "'" + name + "' must be an object, got " + ParamReader.kind(n));
        }
        return n;
    }

    /** A string or an array of up to 4 strings; empty strings are dropped. */
    private static List<String> stop(ParamReader r) {
        JsonNode s = r.node("stop");
        List<String> out = new ArrayList<>();
        if (s == null) {
            return out;
        }
        if (s.isTextual()) {
            if (!s.textValue().isEmpty()) {
                out.add(s.textValue());
            }
            return out;
        }
        if (!s.isArray()) {
            throw ApiException.badRequest("stop", "'stop' must be a string or an array of strings, got " + ParamReader.kind(s));
        }
        if (s.size() > MAX_STOP) {
            throw ApiException.badRequest("stop", "'stop' may hold at most " + MAX_STOP + " strings, got " + s.size());
        }
        for (JsonNode e : s) {
            if (!e.isTextual()) {
                throw ApiException.badRequest("stop", "'stop' must hold strings only, got " + ParamReader.kind(e));
            }
            if (!e.textValue().isEmpty()) {
                out.add(e.textValue());
            }
        }
        return out;
    }

    static int[] tokenIds(JsonNode arr, String param) {
        if (!arr.isArray()) {
            throw ApiException.badRequest(param, "'" + param + "' must be an array of token ids, got " + ParamReader.kind(arr));
        }
        int[] ids = new int[arr.size()];
        for (int i = 0; i < ids.length; i++) {
            long v = ParamReader.integral(arr.get(i), param);
            if (v < 0 || v > Integer.MAX_VALUE) {
                throw ApiException.badRequest(param, "'" + param + "' holds " + v + ", not a token id");
            }
            ids[i] = (int) v;
        }
        return ids;
    }
}
