package dev.tandem.bench.loadgen;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The JSON of one streamed request. Completions send the prompt as token ids (exact length); chat sends the
 * ids' text as one user message. Always greedy, {@code max_tokens} = the planned output length and
 * {@code ignore_eos} so the output length is exact, with usage in the last chunk.
 */
final class RequestBodies {
    static final String COMPLETIONS = "/v1/completions";
    static final String CHAT = "/v1/chat/completions";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String endpoint;
    private final String model; // null: not sent (the server's only model)
    private final Vocabulary vocabulary;

    RequestBodies(String endpoint, String model, Vocabulary vocabulary) {
        this.endpoint = endpoint;
        this.model = model;
        this.vocabulary = vocabulary;
    }

    boolean chat() {
        return endpoint.endsWith("/chat/completions");
    }

    byte[] body(PlannedRequest p) {
        ObjectNode o = JSON.createObjectNode();
        if (model != null) {
            o.put("model", model);
        }
        if (chat()) {
            ObjectNode m = o.putArray("messages").addObject();
            m.put("role", "user");
            m.put("content", vocabulary.text(p.prompt()));
        } else {
            ArrayNode a = o.putArray("prompt");
            for (int id : p.prompt()) {
                a.add(id);
            }
        }
        o.put("max_tokens", p.outputLen());
        o.put("temperature", 0.0);
        o.put("ignore_eos", true);
        o.put("stream", true);
        o.putObject("stream_options").put("include_usage", true);
        try {
            return JSON.writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a request body: " + e.getMessage(), e);
        }
    }
}
