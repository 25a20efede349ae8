package dev.tandem.bench.loadgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.engine.ColocatedEngine;
import dev.tandem.engine.EngineConfig;
import dev.tandem.http.HttpServer;
import dev.tandem.http.ServerConfig;
import dev.tandem.kernels.GgmlType;
import dev.tandem.model.Model;
import dev.tandem.model.ModelMaker;
import dev.tandem.tokenizer.ChatTemplates;
import dev.tandem.tokenizer.Tokenizer;
import dev.tandem.tokenizer.Tokenizers;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loadgen against our real HTTP server and colocated engine on a tiny random-weight model made here. */
class LoadgenServeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path file;
    private static Model model;
    private static ColocatedEngine engine;
    private static HttpServer server;

    @BeforeAll
    static void start() throws Exception {
        file = Files.createTempFile("tandem-loadgen-model", ".gguf");
        ModelMaker.make(new ModelMaker.Spec("llama", 64, 2, 4, 2, 128, 0, GgmlType.Q8_0, 7L, null, 0, 512, false), file);
        model = Model.load(file);
        Tokenizer tok = Tokenizers.fromGguf(model.file());
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        engine = new ColocatedEngine(model, tok, ChatTemplates.fromGguf(model.file(), tok, null),
                new EngineConfig("tiny", 1, 4, 16, 256, 1024, 16), registry);
        server = HttpServer.start(ServerConfig.loopback(0), registry, line -> { });
        server.ready(engine);
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (engine != null) {
            engine.close();
        }
        if (model != null) {
            model.close();
        }
        Files.deleteIfExists(file);
    }

    private static JsonNode run(Path result, String... extra) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] base = {"--url", "http://127.0.0.1:" + server.port(), "--seed", "3", "--timeout", "30", "--no-progress",
                "--result-file", result.toString(), "--save-detailed"};
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(extra)).toArray(String[]::new);
        int code = LoadgenCommand.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), args);
        String printed = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, printed);
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("============ Serving Benchmark Result ============"), printed);
        return JSON.readTree(result.toFile());
    }

    @Test
    void fiveRequestsCompleteWithExactTokenCounts(@TempDir Path dir) throws Exception {
        JsonNode r = run(dir.resolve("r.json"), "--num-prompts", "5", "--input-len", "24", "--output-len", "6",
                "--max-concurrency", "2", "--goodput", "ttft:60000", "tpot:60000");
        assertEquals(5, r.get("completed").asInt(), r.toPrettyString());
        assertEquals(0, r.get("failed").asInt(), r.get("error_reasons").toString());
        assertEquals(5 * 24, r.get("total_input_tokens").asInt(), "server-reported prompt tokens");
        assertEquals(5 * 6, r.get("total_output_tokens").asInt(), "server-reported completion tokens");
        assertEquals(5.0 / r.get("duration").asDouble(), r.get("request_goodput").asDouble(), 1e-9, "every request meets a 60 s SLO");
        assertTrue(r.get("max_concurrent_requests").asInt() <= 2, r.get("max_concurrent_requests").toString());
        assertEquals("tiny", r.get("model_id").asText());
        for (int i = 0; i < 5; i++) {
            assertEquals(24, r.get("input_lens").get(i).asInt());
            assertEquals(6, r.get("output_lens").get(i).asInt());
            assertEquals("", r.get("errors").get(i).asText());
            assertTrue(r.get("ttfts").get(i).asDouble() > 0);
            // one chunk per token unless a token's text is held back (part of a UTF-8 character)
            assertTrue(r.get("itls").get(i).size() <= 5, r.get("itls").toString());
        }
        double ttft = r.get("median_ttft_ms").asDouble();
        assertTrue(ttft > 0 && ttft <= r.get("max_e2el_ms").asDouble(), r.toPrettyString());
    }

    @Test
    void mixedClassesReportedSeparately(@TempDir Path dir) throws Exception {
        JsonNode r = run(dir.resolve("mix.json"), "--num-prompts", "6", "--request-rate", "50",
                "--mix", "short:0.5:input=8-16,output=3;long:0.5:input=100,output=2");
        assertEquals(6, r.get("completed").asInt(), r.toPrettyString());
        JsonNode classes = r.get("classes");
        int s = classes.get("short").get("completed").asInt();
        int l = classes.get("long").get("completed").asInt();
        assertEquals(6, s + l, classes.toString());
        assertEquals(3L * s + 2L * l, r.get("total_output_tokens").asLong(), classes.toString());
        assertEquals(100L * l, classes.get("long").get("total_input_tokens").asLong(), classes.toString());
        long shortIn = classes.get("short").get("total_input_tokens").asLong();
        assertTrue(shortIn >= 8L * s && shortIn <= 16L * s, "short prompts " + shortIn + " over " + s + " requests");
    }

    @Test
    void chatEndpointStreamsToo(@TempDir Path dir) throws Exception {
        JsonNode r = run(dir.resolve("chat.json"), "--num-prompts", "2", "--input-len", "10", "--output-len", "4",
                "--endpoint", "/v1/chat/completions");
        assertEquals(2, r.get("completed").asInt(), r.toPrettyString());
        assertEquals(8, r.get("total_output_tokens").asInt());
        assertEquals("openai-chat", r.get("backend").asText());
    }
}
