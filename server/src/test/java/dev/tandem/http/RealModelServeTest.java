package dev.tandem.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import dev.tandem.engine.ColocatedEngine;
import dev.tandem.engine.EngineConfig;
import dev.tandem.kernels.GgmlType;
import dev.tandem.model.Model;
import dev.tandem.model.ModelMaker;
import dev.tandem.testing.Shared;
import dev.tandem.tokenizer.ChatTemplate;
import dev.tandem.tokenizer.ChatTemplates;
import dev.tandem.tokenizer.Tokenizer;
import dev.tandem.tokenizer.Tokenizers;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real stack: {@link ColocatedEngine} over the shared llama-spm Q8_0 model (random weights, real SentencePiece
 * vocabulary, the template ChatTemplates picks for it) behind the HTTP server, driven by the OpenAI Java SDK.
 * Greedy tokens are llama.cpp's, from {@code llama-spm-q8_0.short.json}. Without {@code ../shared}, a small
 * random-weight model made here (built-in vocabulary) stands in, and the llama.cpp comparisons are skipped.
 */
class RealModelServeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ID = "llama-spm-q8_0";
    private static Model model;
    private static Tokenizer tok;
    private static ChatTemplate template;
    private static ColocatedEngine engine;
    private static PrometheusMeterRegistry registry;
    private static HttpServer server;
    private static OpenAIClient client;
    private static JsonNode reference;

    private static Path made;

    @BeforeAll
    static void start() throws Exception {
        Path file;
        if (Shared.rootOrNull() != null && Files.exists(Shared.rootOrNull().resolve("models/ref/llama-spm-q8_0.gguf"))) {
            file = Shared.model("ref/llama-spm-q8_0.gguf");
            reference = JSON.readTree(Files.readString(file.resolveSibling("llama-spm-q8_0.short.json")));
        } else {
            made = Files.createTempFile("tandem-http-model", ".gguf");
            ModelMaker.make(new ModelMaker.Spec("llama", 64, 2, 4, 2, 128, 0, GgmlType.Q8_0, 7L, null, 0, 512, false), made);
            file = made;
        }
        model = Model.load(file);
        tok = Tokenizers.fromGguf(model.file());
        template = ChatTemplates.fromGguf(model.file(), tok, null);
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        int ctx = Math.min(256, model.config().contextLength());
        engine = new ColocatedEngine(model, tok, template, new EngineConfig(ID, 2, 4, 16, ctx, 4 * ctx, 16), registry);
        server = HttpServer.start(ServerConfig.loopback(0), registry, line -> { });
        server.ready(engine);
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("none").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
        if (engine != null) {
            engine.close();
        }
        if (model != null) {
            model.close();
        }
        if (made != null) {
            try {
                Files.deleteIfExists(made);
            } catch (java.io.IOException e) {
                // a temp file; the OS cleans up
            }
        }
    }

    private static void needReference() {
        Assumptions.assumeTrue(reference != null, "skipped: no llama.cpp reference outputs without ../shared/models");
    }

    private static String piece(long id) {
        return new String(tok.tokenBytes((int) id), StandardCharsets.UTF_8);
    }

    @Test
    void greedyCompletionMatchesLlamaCpp() {
        needReference();
        Completion c = client.completions().create(CompletionCreateParams.builder().model(ID).prompt(reference.get("prompt_text").asText())
                .temperature(0).maxTokens(8L).logprobs(1L).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());
        CompletionChoice ch = c.choices().getFirst();
        List<String> expected = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            expected.add(piece(reference.get("greedy_tokens").get(i).asLong()));
            text.append(expected.getLast());
        }
        assertEquals(expected, ch.logprobs().orElseThrow().tokens().orElseThrow(), "greedy tokens after " + reference.get("prompt_tokens"));
        assertEquals(text.toString(), ch.text());
        assertEquals(reference.get("prompt_tokens").size(), c.usage().orElseThrow().promptTokens());
        assertEquals(8, c.usage().orElseThrow().completionTokens());
        assertEquals(CompletionChoice.FinishReason.LENGTH, ch.finishReason());
    }

    @Test
    void stopStringCutsTheGreedyText() {
        needReference();
        StringBuilder greedy = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            greedy.append(piece(reference.get("greedy_tokens").get(i).asLong()));
        }
        String stop = greedy.substring(greedy.length() / 2, greedy.length() / 2 + 3);
        String before = greedy.substring(0, greedy.indexOf(stop));
        Completion c = client.completions().create(CompletionCreateParams.builder().model(ID).prompt(reference.get("prompt_text").asText())
                .temperature(0).maxTokens(12L).stop(stop).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());
        assertEquals(before, c.choices().getFirst().text(), "stop " + JSON.valueToTree(stop) + " in " + JSON.valueToTree(greedy.toString()));
        assertEquals(CompletionChoice.FinishReason.STOP, c.choices().getFirst().finishReason());
    }

    @Test
    void chatStreamEqualsChatWholeForOneSeed() {
        ChatCompletionCreateParams.Builder p = ChatCompletionCreateParams.builder().model(ID).addSystemMessage("You are terse.")
                .addUserMessage("Hello there").seed(1234L).temperature(0.9).maxCompletionTokens(10).n(2L);
        ChatCompletion whole = client.chat().completions().create(p.build());
        Map<Long, StringBuilder> streamed = new java.util.TreeMap<>();
        long[] usage = new long[2];
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                p.streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(chunk -> {
                chunk.choices().forEach(c -> c.delta().content().ifPresent(t -> streamed.computeIfAbsent(c.index(), k -> new StringBuilder()).append(t)));
                chunk.usage().ifPresent(u -> {
                    usage[0] = u.promptTokens();
                    usage[1] = u.completionTokens();
                });
            });
        }
        String rendered = template.render(List.of(new ChatTemplate.Message("system", "You are terse."),
                new ChatTemplate.Message("user", "Hello there")), true);
        String bos = tok.tokenText(tok.bos());
        int promptTokens = tok.encode(rendered, !rendered.startsWith(bos), true).length;
        assertEquals(promptTokens, whole.usage().orElseThrow().promptTokens(), "rendered: " + rendered);
        assertEquals(promptTokens, usage[0]);
        assertEquals(whole.usage().orElseThrow().completionTokens(), usage[1]);
        assertEquals(2, whole.choices().size());
        for (ChatCompletion.Choice c : whole.choices()) {
            assertEquals(c.message().content().orElseThrow(), streamed.getOrDefault(c.index(), new StringBuilder()).toString(),
                    "choice " + c.index() + ": same seed, same text streamed or not");
        }
        assertNotEquals(whole.choices().get(0).message().content(), whole.choices().get(1).message().content(),
                "seeds 1234 and 1235 should differ");
    }

    @Test
    void clientLeavingCancelsInTheEngine() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            byte[] body = ("{\"prompt\":\"Once upon a time\",\"stream\":true,\"max_tokens\":200,\"ignore_eos\":true}").getBytes(StandardCharsets.UTF_8);
            s.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().write(body);
            InputStream in = s.getInputStream();
            String some = new String(in.readNBytes(400), StandardCharsets.UTF_8);
            assertTrue(some.startsWith("HTTP/1.1 200 OK") && some.contains("data: {"), some);
        }
        TestServer.eventually("engine cancelled the request",
                () -> registry.scrape().contains("tandem_requests_total{state=\"cancelled\"} 1.0"));
        TestServer.eventually("nothing running", () -> registry.scrape().contains("tandem_requests_running 0.0"));
        assertTrue(registry.scrape().contains("tandem_requests_total{state=\"failed\"} 0.0"), registry.scrape());
        assertTrue(registry.scrape().contains("tandem_http_client_disconnects_total 1.0"), registry.scrape());
    }
}
