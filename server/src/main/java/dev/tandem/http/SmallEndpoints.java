package dev.tandem.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.engine.ModelInfo;
import dev.tandem.tokenizer.Tokenizer;
import dev.tandem.tokenizer.TokenizerException;

import java.nio.charset.StandardCharsets;

/**
 * The endpoints that are not generation: {@code /v1/models}, {@code /v1/models/{id}}, and llama.cpp-server's
 * {@code /tokenize} ({@code {"content", "add_special"=false, "parse_special"=true, "with_pieces"=false}} →
 * {@code {"tokens":[…]}}) and {@code /detokenize} ({@code {"tokens":[…]}} → {@code {"content":"…"}}).
 */
final class SmallEndpoints {
    private SmallEndpoints() {}

    /** {@code GET /v1/engine}: the engine's live picture (workers, CPUs, batch, queue, KV), or just its class for engines made elsewhere. */
    static Object engine(dev.tandem.engine.Engine engine) {
        try {
            return dev.tandem.engine.Engines.status(engine);
        } catch (IllegalArgumentException e) {
            ObjectNode o = Json.object();
            o.put("mode", "unknown");
            o.put("engine", engine.getClass().getSimpleName());
            return o;
        }
    }

    static ObjectNode models(ModelInfo model, long created) {
        ObjectNode o = Json.object();
        o.put("object", "list");
        o.putArray("data").add(model(model, created));
        return o;
    }

    static ObjectNode model(ModelInfo model, long created) {
        ObjectNode m = Json.object();
        m.put("id", model.id());
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "tandem");
        m.put("context_length", model.contextLength());
        return m;
    }

    static ObjectNode tokenize(JsonNode body, Tokenizer tok) {
        ParamReader r = new ParamReader(body);
        String content = r.string("content", null);
        if (content == null) {
            throw ApiException.badRequest("content", "'content' is required");
        }
        boolean addSpecial = r.bool("add_special", false);
        boolean parseSpecial = r.bool("parse_special", true);
        boolean withPieces = r.bool("with_pieces", false);
        int[] ids;
        try {
            ids = tok.encode(content, addSpecial, parseSpecial);
        } catch (TokenizerException e) {
            throw ApiException.badRequest("content", "cannot tokenize 'content': " + e.getMessage());
        }
        ObjectNode o = Json.object();
        ArrayNode tokens = o.putArray("tokens");
        for (int id : ids) {
            if (withPieces) {
                ObjectNode t = tokens.addObject();
                t.put("id", id);
                t.put("piece", new String(tok.tokenBytes(id, true), StandardCharsets.UTF_8));
            } else {
                tokens.add(id);
            }
        }
        return o;
    }

    static ObjectNode detokenize(JsonNode body, Tokenizer tok) {
        ParamReader r = new ParamReader(body);
        JsonNode t = r.node("tokens");
        if (t == null) {
            throw ApiException.badRequest("tokens", "'tokens' is required");
        }
        int[] ids = OpenAiRequests.tokenIds(t, "tokens");
        for (int id : ids) {
            if (id >= tok.vocabSize()) {
                throw ApiException.badRequest("tokens", "token id " + id + " is outside the vocabulary (0.." + (tok.vocabSize() - 1) + ")");
            }
        }
        ObjectNode o = Json.object();
        o.put("content", tok.decode(ids));
        return o;
    }
}
