package dev.tandem.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Streams over raw sockets: the exact bytes, keep-alive comments while queued, and cancellation when the client leaves. */
class SseTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The events of an SSE body, each without its trailing blank line; asserts the body is made only of whole events. */
    static List<String> events(String body) {
        assertTrue(body.endsWith("\n\n"), "body must end with a blank line: " + body);
        List<String> out = new ArrayList<>(List.of(body.substring(0, body.length() - 2).split("\n\n", -1)));
        out.removeIf(e -> e.startsWith(":")); // comments
        return out;
    }

    @Test
    void chatStreamBytesAreExact() throws Exception {
        try (TestServer srv = TestServer.start()) {
            TestServer.Raw r = srv.post("/v1/chat/completions", "{\"model\":\"fake-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                    + "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"temperature\":0,\"max_tokens\":4}");
            assertEquals(200, r.status(), r.text());
            assertEquals("text/event-stream", r.header("content-type"));
            assertEquals("chunked", r.header("transfer-encoding"));
            assertEquals("no-cache", r.header("cache-control"));
            JsonNode first = JSON.readTree(r.text().substring(6, r.text().indexOf("\n\n")));
            String id = first.get("id").asText();
            long created = first.get("created").asLong();
            assertTrue(id.startsWith("chatcmpl-"), id);
            assertTrue(Math.abs(created - System.currentTimeMillis() / 1000) < 60, "created " + created);
            String head = "{\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"created\":" + created
                    + ",\"model\":\"fake-model\",\"system_fingerprint\":null,\"choices\":[";
            int prompt = 1 + FakeTokenizer.ids("[user]hi\n[assistant]").length; // BOS once: the template's "<s>" parsed as special
            String expected = "data: " + head + "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
                    + "data: " + head + "{\"index\":0,\"delta\":{\"content\":\"T\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
                    + "data: " + head + "{\"index\":0,\"delta\":{\"content\":\"h\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
                    + "data: " + head + "{\"index\":0,\"delta\":{\"content\":\"e\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
                    + "data: " + head + "{\"index\":0,\"delta\":{\"content\":\" \"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
                    + "data: " + head + "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"length\"}],\"usage\":null}\n\n"
                    + "data: " + head + "],\"usage\":{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":4,\"total_tokens\":" + (prompt + 4) + "}}\n\n"
                    + "data: [DONE]\n\n";
            assertEquals(expected, r.text());
            TestServer.eventually("request logged", () -> !srv.log.isEmpty());
            assertTrue(srv.log.getFirst().startsWith("POST /v1/chat/completions 200 prompt=" + prompt + " completion=4 "), srv.log.toString());
        }
    }

    @Test
    void completionStreamWithoutUsageHasNoUsageField() throws Exception {
        try (TestServer srv = TestServer.start()) {
            TestServer.Raw r = srv.post("/v1/completions", "{\"prompt\":\"x\",\"stream\":true,\"temperature\":0,\"max_tokens\":2,\"stop\":\"e\"}");
            List<String> ev = events(r.text());
            assertEquals(List.of("T", "h", ""), ev.subList(0, 3).stream().map(e -> json(e).at("/choices/0/text").asText()).toList(), r.text());
            for (String e : ev.subList(0, 3)) {
                assertEquals("text_completion", json(e).get("object").asText());
                assertTrue(!json(e).has("usage"), e);
            }
            assertEquals("length", json(ev.get(2)).at("/choices/0/finish_reason").asText(), r.text());
            assertEquals("data: [DONE]", ev.get(3));
            assertEquals(4, ev.size(), r.text());
        }
    }

    @Test
    void keepAliveCommentsWhileQueued() throws Exception {
        try (TestServer srv = new TestServer(ServerConfig.loopback(0).withLimits(1 << 20, 1 << 20, 30), 256, 8, true)) {
            srv.engine.hold();
            Thread releaser = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
                srv.engine.release();
            });
            TestServer.Raw r = srv.post("/v1/completions", "{\"prompt\":\"x\",\"stream\":true,\"temperature\":0,\"max_tokens\":3}");
            releaser.join();
            String body = r.text();
            int comments = body.split(": keep-alive\n\n", -1).length - 1;
            assertTrue(comments >= 2, "expected keep-alive comments during a 200 ms wait at 30 ms: " + body);
            assertEquals("The", String.join("", events(body).stream().filter(e -> !e.equals("data: [DONE]"))
                    .map(e -> json(e).at("/choices/0/text").asText()).toList()), body);
        }
    }

    @Test
    void clientLeavingMidStreamCancels() throws Exception {
        try (TestServer srv = TestServer.start(); Socket s = new Socket("127.0.0.1", srv.port())) {
            srv.engine.tokenDelayMicros = 2000;
            byte[] body = "{\"prompt\":\"x\",\"stream\":true,\"max_tokens\":200,\"seed\":1}".getBytes(StandardCharsets.UTF_8);
            s.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().write(body);
            InputStream in = s.getInputStream();
            byte[] some = in.readNBytes(600); // the head and a few events
            assertTrue(new String(some, StandardCharsets.UTF_8).startsWith("HTTP/1.1 200 OK"));
            s.close();
            TestServer.eventually("engine request cancelled", () -> srv.engine.cancelled.get() == 1);
            TestServer.eventually("nothing running", () -> srv.engine.live.get() == 0);
            TestServer.eventually("disconnect counted", () -> srv.server.metrics().disconnects() == 1);
            TestServer.eventually("no active HTTP requests", () -> srv.server.metrics().activeRequests() == 0);
            assertTrue(srv.registry.scrape().contains("tandem_requests_running 0.0"), srv.registry.scrape());
        }
    }

    @Test
    void clientLeavingWhileQueuedCancels() throws Exception {
        try (TestServer srv = TestServer.start(); Socket s = new Socket("127.0.0.1", srv.port())) {
            srv.engine.hold();
            byte[] body = "{\"prompt\":\"x\",\"max_tokens\":5}".getBytes(StandardCharsets.UTF_8);
            s.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().write(body);
            TestServer.eventually("request queued", () -> srv.engine.submitted.get() == 1);
            s.close();
            TestServer.eventually("queued request cancelled", () -> srv.engine.cancelled.get() == 1 && srv.engine.live.get() == 0);
            assertEquals(0, srv.engine.finished.get());
        }
    }

    @Test
    void smallEndpoints() throws Exception {
        try (TestServer srv = TestServer.start()) {
            TestServer.Raw t = srv.post("/tokenize", "{\"content\":\"hi\"}");
            assertEquals("{\"tokens\":[" + (3 + 'h') + "," + (3 + 'i') + "]}", t.text());
            t = srv.post("/tokenize", "{\"content\":\"hi\",\"add_special\":true,\"with_pieces\":true}");
            assertEquals("{\"tokens\":[{\"id\":1,\"piece\":\"<s>\"},{\"id\":" + (3 + 'h') + ",\"piece\":\"h\"},{\"id\":" + (3 + 'i')
                    + ",\"piece\":\"i\"}]}", t.text());
            assertEquals("{\"content\":\"hi\"}", srv.post("/detokenize", "{\"tokens\":[1," + (3 + 'h') + "," + (3 + 'i') + "]}").text());
            JsonNode models = JSON.readTree(srv.request("GET", "/v1/models").body());
            assertEquals("list", models.get("object").asText());
            assertEquals("fake-model", models.at("/data/0/id").asText());
            assertEquals("model", models.at("/data/0/object").asText());
            srv.post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1}");
            TestServer.Raw m = srv.request("GET", "/metrics");
            assertEquals(200, m.status());
            assertTrue(m.header("content-type").startsWith("text/plain"), m.headers().toString());
            assertTrue(m.text().contains("tandem_requests_running"), m.text());
            assertTrue(m.text().contains("tandem_http_requests_seconds_count{route=\"completions\",status=\"200\"} 1"), m.text());
        }
    }

    private static JsonNode json(String event) {
        try {
            return JSON.readTree(event.substring("data: ".length()));
        } catch (Exception e) {
            throw new AssertionError("not a JSON event: " + event, e);
        }
    }
}
