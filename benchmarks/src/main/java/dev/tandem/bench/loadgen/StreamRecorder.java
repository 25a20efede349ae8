package dev.tandem.bench.loadgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.Arrays;

/**
 * The state of one streamed response: reads each SSE event ({@code text_completion} or
 * {@code chat.completion.chunk} chunks, a usage chunk, an error object, {@code [DONE]}) and stamps content
 * chunks. Called by one thread at a time (the HTTP client serialises a body's callbacks).
 */
final class StreamRecorder implements SseParser.Listener {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PlannedRequest planned;
    private final long startNanos;
    private long firstNanos = -1;
    private long lastNanos = -1;
    private int contentChunks;
    private double[] itls = new double[16]; // ms, [contentChunks - 1] used
    private int promptTokens = -1;
    private int completionTokens = -1;
    private boolean done;
    private String error;

    StreamRecorder(PlannedRequest planned, long startNanos) {
        this.planned = planned;
        this.startNanos = startNanos;
    }

    @Override
    public void onEvent(String data, long nanos) {
        if (done || error != null) {
            return;
        }
        if (data.equals("[DONE]")) {
            done = true;
            return;
        }
        JsonNode n;
        try {
            n = JSON.readTree(data);
        } catch (java.io.IOException e) {
            error = "malformed JSON in the event stream: " + abbreviate(data);
            return;
        }
        if (n == null || !n.isObject()) {
            error = "an event that is not a JSON object: " + abbreviate(data);
            return;
        }
        JsonNode err = n.get("error");
        if (err != null && !err.isNull()) {
            error = "error event: " + message(err);
            return;
        }
        JsonNode usage = n.get("usage");
        if (usage != null && usage.isObject()) {
            promptTokens = usage.path("prompt_tokens").asInt(-1);
            completionTokens = usage.path("completion_tokens").asInt(-1);
        }
        JsonNode choices = n.get("choices");
        if (choices == null || !choices.isArray() || choices.isEmpty()) {
            return;
        }
        JsonNode c = choices.get(0);
        JsonNode text = c.has("text") ? c.get("text") : c.path("delta").get("content");
        if (text == null || !text.isTextual() || text.textValue().isEmpty()) {
            return;
        }
        if (firstNanos < 0) {
            firstNanos = nanos;
        } else {
            if (contentChunks - 1 == itls.length) {
                itls = Arrays.copyOf(itls, itls.length * 2);
            }
            itls[contentChunks - 1] = (nanos - lastNanos) / 1e6;
        }
        lastNanos = nanos;
        contentChunks++;
    }

    /** The body ended normally at {@code nanos}: a result, successful when the stream was whole. */
    RequestResult finish(long nanos) {
        if (error != null) {
            return RequestResult.failed(planned, "error event", error);
        }
        if (!done) {
            return RequestResult.failed(planned, "stream ended without [DONE]",
                    "stream ended without [DONE] after " + contentChunks + " content chunks");
        }
        if (contentChunks == 0) {
            return RequestResult.failed(planned, "no content", "the stream ended with no content chunk");
        }
        int in = promptTokens >= 0 ? promptTokens : planned.inputLen();
        int out = completionTokens >= 0 ? completionTokens : contentChunks;
        return new RequestResult(planned.index(), planned.requestClass(), planned.inputLen(), planned.outputLen(), true, in, out,
                (firstNanos - startNanos) / 1e6, (nanos - startNanos) / 1e6, Arrays.copyOf(itls, contentChunks - 1), null, "");
    }

    int contentChunks() {
        return contentChunks;
    }

    /** The message of an OpenAI error object (or of whatever stands in its place). */
    static String message(JsonNode err) {
        if (err.isTextual()) {
            return err.textValue();
        }
        JsonNode m = err.get("message");
        return m != null && m.isTextual() ? m.textValue() : abbreviate(err.toString());
    }

    static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }
}
