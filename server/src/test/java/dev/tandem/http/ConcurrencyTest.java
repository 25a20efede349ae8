package dev.tandem.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Many streams at once: all complete and correct; slow readers cost bounded memory and get cancelled. */
class ConcurrencyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void twoHundredConcurrentStreamsAllComplete() throws Exception {
        int clients = 200, maxTokens = 30;
        try (TestServer srv = new TestServer(ServerConfig.loopback(0).withThreads(2, 2), 256, 256, true);
             HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build()) {
            srv.engine.tokenDelayMicros = 1000;
            List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                String body = "{\"model\":\"fake-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,"
                        + "\"stream_options\":{\"include_usage\":true},\"seed\":" + (1000 + i) + ",\"max_tokens\":" + maxTokens + "}";
                futures.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + srv.port() + "/v1/chat/completions"))
                        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
            }
            for (int i = 0; i < clients; i++) {
                HttpResponse<String> r = futures.get(i).get(60, TimeUnit.SECONDS);
                String ctx = "client " + i + ": " + r.body();
                assertEquals(200, r.statusCode(), ctx);
                List<String> events = SseTest.events(r.body());
                assertEquals("data: [DONE]", events.getLast(), ctx);
                StringBuilder text = new StringBuilder();
                String id = null;
                for (String e : events.subList(0, events.size() - 1)) {
                    JsonNode j = JSON.readTree(e.substring(6));
                    id = id == null ? j.get("id").asText() : id;
                    assertEquals(id, j.get("id").asText(), ctx);
                    for (JsonNode c : j.get("choices")) {
                        text.append(c.at("/delta/content").asText(""));
                    }
                }
                String expected = ("seed " + (1000 + i) + " says hello. ").repeat(3).substring(0, maxTokens);
                assertEquals(expected, text.toString(), ctx);
                JsonNode usage = JSON.readTree(events.get(events.size() - 2).substring(6)).get("usage");
                assertEquals(maxTokens, usage.get("completion_tokens").asInt(), ctx);
                assertEquals("length", JSON.readTree(events.get(events.size() - 3).substring(6)).at("/choices/0/finish_reason").asText(), ctx);
            }
            assertEquals(clients, srv.engine.finished.get());
            TestServer.eventually("no active requests", () -> srv.server.metrics().activeRequests() == 0);
        }
    }

    @Test
    void slowReadersAreBoundedAndCancelled() throws Exception {
        int slow = 20, limit = 64 * 1024;
        try (TestServer srv = new TestServer(ServerConfig.loopback(0).withLimits(1 << 20, limit, 5000).withThreads(2, 1), 1 << 20, 64, true)) {
            srv.engine.tokenDelayMicros = 500;
            srv.engine.bytesPerToken = 1000; // ~1.1 KB per event
            byte[] body = "{\"prompt\":\"x\",\"stream\":true,\"max_tokens\":200000}".getBytes(StandardCharsets.UTF_8);
            byte[] head = ("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            List<Socket> sockets = new ArrayList<>();
            ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor();
            try {
                for (int i = 0; i < slow; i++) {
                    Socket s = new Socket();
                    s.setReceiveBufferSize(4096);
                    s.connect(new InetSocketAddress("127.0.0.1", srv.port()));
                    s.getOutputStream().write(head);
                    s.getOutputStream().write(body);
                    sockets.add(s);
                    readers.execute(() -> { // 256 bytes every 20 ms: ~13 KB/s, far below what the server produces
                        try (InputStream in = s.getInputStream()) {
                            byte[] buf = new byte[256];
                            while (in.read(buf) >= 0) {
                                Thread.sleep(20);
                            }
                        } catch (Exception e) {
                            // reset by the server after it cancelled: expected
                        }
                    });
                }
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (srv.engine.cancelled.get() < slow && System.nanoTime() < end) {
                    assertTrue(srv.server.metrics().bufferedBytes() <= (long) slow * (limit + 4096),
                            "total buffered " + srv.server.metrics().bufferedBytes());
                    Thread.sleep(20);
                }
                assertEquals(slow, srv.engine.cancelled.get(), "streams cancelled for reading too slowly; overflows="
                        + srv.server.metrics().overflows());
                assertEquals(slow, srv.server.metrics().overflows());
                long max = srv.server.metrics().bufferedBytesMax();
                assertTrue(max > limit / 2 && max <= limit + 4096, "most bytes one stream held: " + max + " (limit " + limit + ")");
                TestServer.eventually("engine idle", () -> srv.engine.live.get() == 0);
                TestServer.eventually("buffers freed", () -> srv.server.metrics().bufferedBytes() == 0);
                TestServer.eventually("no active requests", () -> srv.server.metrics().activeRequests() == 0);
            } finally {
                for (Socket s : sockets) {
                    s.close();
                }
                readers.shutdownNow();
            }
        }
    }
}
