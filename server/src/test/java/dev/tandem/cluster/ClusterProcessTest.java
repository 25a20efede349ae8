package dev.tandem.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Separate JVMs on loopback: {@code tandem serve --role router}, two {@code --role prefill}, two
 * {@code --role decode} (each decode node is a whole split engine, so its own {@code /v1} is the
 * single-process answer to compare with). Greedy completions through the router equal the
 * single-process ones (tokens and logprobs, as JSON); a decode node killed mid-stream ends its
 * streams with an error event; a prefill node killed under load loses no request; a node with
 * another model is refused at the handshake.
 */
class ClusterProcessTest {
    @TempDir
    static Path dir;
    static final List<Process> procs = new ArrayList<>();
    static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    static final ObjectMapper JSON = new ObjectMapper();
    static Path model;
    static Process p1, p2, d1, d2, router;
    static int p1Port, p2Port, d1Port, d2Port, routerPort;

    @BeforeAll
    static void start() throws Exception {
        model = ClusterFixture.makeModel(dir, "tiny.gguf", 7L);
        p1 = launch("p1", model, "--role", "prefill");
        p2 = launch("p2", model, "--role", "prefill");
        d1 = launch("d1", model, "--role", "decode");
        d2 = launch("d2", model, "--role", "decode");
        p1Port = port("p1");
        p2Port = port("p2");
        d1Port = port("d1");
        d2Port = port("d2");
        router = launch("router", model, "--role", "router", "--prefill", "127.0.0.1:" + p1Port, "--prefill", "127.0.0.1:" + p2Port,
                "--decode", "127.0.0.1:" + d1Port, "--decode", "127.0.0.1:" + d2Port);
        routerPort = port("router");
        awaitUp(2, 2);
    }

    @AfterAll
    static void stop() {
        for (Process p : procs) {
            p.destroyForcibly();
        }
    }

    static Process launch(String name, Path modelFile, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), "dev.tandem.cli.Main", "serve", "-m", modelFile.toString(),
                "--model-id", "tiny", "--port", "0", "--kv-port", "0", "--ctx", "256", "--threads", "1",
                "--cluster-token", ClusterFixture.TOKEN, "--shutdown-grace", "0"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile()).start();
        procs.add(p);
        return p;
    }

    /** The HTTP port a node printed, once it serves. */
    static int port(String name) throws Exception {
        Path log = dir.resolve(name + ".log");
        Pattern serving = Pattern.compile("serving .* on http://127\\.0\\.0\\.1:(\\d+)/v1");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String s = Files.exists(log) ? Files.readString(log) : "";
            Matcher m = serving.matcher(s);
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            Thread.sleep(50);
        }
        throw new AssertionError(name + " did not start serving within 30 s; its log:\n" + Files.readString(log));
    }

    static JsonNode health(int port) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    static void awaitUp(int prefill, int decode) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        JsonNode h = null;
        while (System.nanoTime() < deadline) {
            h = health(routerPort);
            if (h.path("prefill_nodes_up").asInt() == prefill && h.path("decode_nodes_up").asInt() == decode) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("router health " + h + "; wanted " + prefill + " prefill and " + decode + " decode nodes up");
    }

    static String body(int[] prompt, int maxTokens, boolean stream) {
        StringBuilder p = new StringBuilder();
        for (int t : prompt) {
            p.append(p.isEmpty() ? "" : ",").append(t);
        }
        return "{\"model\":\"tiny\",\"prompt\":[" + p + "],\"max_tokens\":" + maxTokens
                + ",\"temperature\":0,\"logprobs\":3,\"stream\":" + stream + "}";
    }

    static HttpRequest post(int port, String body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/completions"))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** The choices of a completion (without id and timestamps), as text. */
    static String choices(int port, String body) throws Exception {
        HttpResponse<String> r = http.send(post(port, body), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = JSON.readTree(r.body());
        return j.get("choices").toString() + " " + j.get("usage").toString();
    }

    @Test
    void clusterBehavesAsOneProcessAndSurvivesLosingNodes() throws Exception {
        // 1. Same answers as single-process tandem (a decode node's own /v1 is a --role all engine).
        for (int i = 0; i < 4; i++) {
            String b = body(ClusterFixture.prompt(6 + 17 * i, 300 + i), 12, false);
            assertEquals(choices(d1Port, b), choices(routerPort, b), "request " + i + ": " + b);
        }

        // 2. A node with another model is refused at the handshake: a router for model B cannot use these nodes.
        Path otherModel = ClusterFixture.makeModel(dir, "other.gguf", 8L);
        Process other = launch("other-router", otherModel, "--role", "router", "--prefill", "127.0.0.1:" + p1Port,
                "--decode", "127.0.0.1:" + d1Port);
        int otherPort = port("other-router");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.readString(dir.resolve("other-router.log")).contains("model mismatch") && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        String otherLog = Files.readString(dir.resolve("other-router.log"));
        assertTrue(otherLog.contains("model mismatch"), otherLog);
        assertEquals(0, health(otherPort).path("decode_nodes_up").asInt(), otherLog);
        other.destroyForcibly();

        // 3. Kill a decode node mid-stream: its streams end with an error event, none hangs.
        List<CompletableFuture<String>> streams = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String b = body(ClusterFixture.prompt(8, 400 + i), 240, true);
            streams.add(CompletableFuture.supplyAsync(() -> readStream(b)));
        }
        Thread.sleep(300);
        d1.destroyForcibly();
        int errors = 0;
        for (CompletableFuture<String> s : streams) {
            String text = s.get(20, TimeUnit.SECONDS);
            assertTrue(text.contains("[DONE]") || text.contains("\"error\""), text);
            errors += text.contains("\"error\"") ? 1 : 0;
        }
        assertTrue(errors >= 1, "at least one stream was on the killed decode node");
        awaitUp(2, 1);

        // 4. Kill a prefill node under load: every request completes (retried on the other prefill node).
        List<CompletableFuture<HttpResponse<String>>> load = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            load.add(http.sendAsync(post(routerPort, body(ClusterFixture.prompt(200, 500 + i), 4, false)), HttpResponse.BodyHandlers.ofString()));
        }
        p1.destroyForcibly();
        for (var f : load) {
            HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), r.body());
        }
        String b = body(ClusterFixture.prompt(30, 600), 10, false);
        assertEquals(choices(d2Port, b), choices(routerPort, b), "after the losses");

        // 5. Nothing is left held on the surviving nodes.
        awaitIdle(p2Port, "prefilling");
        awaitIdle(d2Port, "registered");
    }

    /** Waits until a node reports {@code counter} 0 and all its KV blocks free. */
    static void awaitIdle(int port, String counter) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        JsonNode h = health(port);
        while (System.nanoTime() < deadline && (h.path(counter).asInt() != 0 || h.path("free_kv_blocks").asInt() != h.path("kv_blocks").asInt())) {
            Thread.sleep(50);
            h = health(port);
        }
        assertEquals(0, h.path(counter).asInt(), counter + " on " + h);
        assertEquals(h.path("kv_blocks").asInt(), h.path("free_kv_blocks").asInt(), "free KV blocks on " + h);
    }

    /** Reads an SSE completion stream to its end (at most 20 s). */
    static String readStream(String body) {
        try {
            HttpResponse<java.io.InputStream> r = http.send(post(routerPort, body), HttpResponse.BodyHandlers.ofInputStream());
            StringBuilder s = new StringBuilder();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body()))) {
                for (String line; (line = in.readLine()) != null; ) {
                    s.append(line).append('\n');
                }
            }
            return s.toString();
        } catch (Exception e) {
            return "stream failed: " + e;
        }
    }
}
