package dev.tandem.bench.loadgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Failures are counted with their reasons: a fake server that refuses (429), breaks streams, or never answers. */
class LoadgenFailuresTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    interface Completions {
        void handle(HttpExchange ex, int n) throws IOException;
    }

    private static HttpServer fake(Completions completions) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        s.setExecutor(Executors.newFixedThreadPool(4));
        s.createContext("/v1/models", ex -> send(ex, 200, "{\"object\":\"list\",\"data\":[{\"id\":\"fake\"}]}"));
        AtomicInteger n = new AtomicInteger();
        s.createContext("/v1/completions", ex -> completions.handle(ex, n.getAndIncrement()));
        s.start();
        return s;
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        ex.getRequestBody().readAllBytes();
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(b);
        }
    }

    private static JsonNode run(int port, Path result, String... extra) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String[] base = {"--url", "http://127.0.0.1:" + port, "--token-range", "100:200", "--no-progress", "--result-file",
                result.toString(), "--save-detailed", "--input-len", "4", "--output-len", "3"};
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(extra)).toArray(String[]::new);
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        int code = LoadgenCommand.run(ps, ps, args);
        assertEquals(0, code, out.toString(StandardCharsets.UTF_8));
        return JSON.readTree(result.toFile());
    }

    @Test
    void http429IsCountedWithTheServersMessage(@TempDir Path dir) throws Exception {
        HttpServer s = fake((ex, n) -> {
            if (n % 2 == 0) {
                send(ex, 429, "{\"error\":{\"message\":\"queue full (16 waiting)\",\"type\":\"rate_limit_error\"}}");
            } else {
                ex.getRequestBody().readAllBytes();
                ex.getResponseHeaders().add("Content-Type", "text/event-stream");
                ex.sendResponseHeaders(200, 0);
                try (OutputStream o = ex.getResponseBody()) {
                    for (String t : new String[] {"a", "b", "c"}) {
                        o.write(("data: {\"choices\":[{\"index\":0,\"text\":\"" + t + "\"}]}\n\n").getBytes(StandardCharsets.UTF_8));
                        o.flush();
                    }
                    o.write("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":3}}\n\ndata: [DONE]\n\n"
                            .getBytes(StandardCharsets.UTF_8));
                }
            }
        });
        try {
            JsonNode r = run(s.getAddress().getPort(), dir.resolve("r.json"), "--num-prompts", "6", "--max-concurrency", "1");
            assertEquals(3, r.get("completed").asInt(), r.toPrettyString());
            assertEquals(3, r.get("failed").asInt());
            assertEquals("{\"HTTP 429\":3}", r.get("error_reasons").toString());
            assertEquals("HTTP 429: queue full (16 waiting)", r.get("errors").get(0).asText());
            assertEquals("", r.get("errors").get(1).asText());
            assertEquals(9, r.get("total_output_tokens").asInt());
            assertEquals(2, r.get("itls").get(1).size(), "three content chunks, two gaps");
        } finally {
            s.stop(0);
        }
    }

    @Test
    void brokenStreamsAndErrorEventsAreFailures(@TempDir Path dir) throws Exception {
        HttpServer s = fake((ex, n) -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(200, 0);
            try (OutputStream o = ex.getResponseBody()) {
                o.write("data: {\"choices\":[{\"index\":0,\"text\":\"x\"}]}\n\n".getBytes(StandardCharsets.UTF_8));
                if (n % 2 == 0) {
                    o.write("data: {\"error\":{\"message\":\"engine failed\"}}\n\ndata: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                }
            }
        });
        try {
            JsonNode r = run(s.getAddress().getPort(), dir.resolve("r.json"), "--num-prompts", "4", "--max-concurrency", "1");
            assertEquals(0, r.get("completed").asInt(), r.toPrettyString());
            assertEquals("{\"error event\":2,\"stream ended without [DONE]\":2}", r.get("error_reasons").toString());
            assertEquals("error event: engine failed", r.get("errors").get(0).asText());
        } finally {
            s.stop(0);
        }
    }

    @Test
    void aServerThatNeverAnswersTimesOut(@TempDir Path dir) throws Exception {
        HttpServer s = fake((ex, n) -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(200, 0);
            try {
                Thread.sleep(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.close();
        });
        try {
            long t0 = System.nanoTime();
            JsonNode r = run(s.getAddress().getPort(), dir.resolve("r.json"), "--num-prompts", "2", "--timeout", "0.5");
            double took = (System.nanoTime() - t0) / 1e9;
            assertEquals("{\"timeout\":2}", r.get("error_reasons").toString(), r.toPrettyString());
            assertTrue(took < 4, "a 0.5 s timeout ended the run after " + took + " s");
        } finally {
            s.stop(0);
        }
    }

    @Test
    void refusedConnectionIsOneLineError() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = LoadgenCommand.run(new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8),
                "--url", "http://127.0.0.1:" + port, "--num-prompts", "1", "--no-progress");
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, code, e);
        assertTrue(e.startsWith("loadgen: cannot connect to the server") && e.strip().lines().count() == 1, e);
    }
}
