package dev.tandem.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every error status, over raw HTTP: the status, the OpenAI error object, and the headers that go with it. */
class HttpErrorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestServer srv;

    @BeforeAll
    static void start() throws Exception {
        srv = new TestServer(ServerConfig.loopback(0).withLimits(4096, ServerConfig.DEFAULT_STREAM_BUFFER_BYTES, 5000), 256, 64, true);
    }

    @AfterAll
    static void stop() {
        srv.close();
    }

    /** Asserts status and error fields; returns the error object. */
    static JsonNode error(TestServer.Raw r, int status, String type, String param) throws Exception {
        String ctx = "response " + r.status() + " " + r.text();
        assertEquals(status, r.status(), ctx);
        assertTrue(r.header("content-type").startsWith("application/json"), ctx);
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertEquals(type, e.get("type").asText(), ctx);
        assertTrue(e.has("message") && e.has("param") && e.has("code"), ctx);
        assertTrue(!e.get("message").asText().isBlank(), ctx);
        if (param == null) {
            assertTrue(e.get("param").isNull(), ctx);
        } else {
            assertEquals(param, e.get("param").asText(), ctx);
        }
        return e;
    }

    @Test
    void malformedJsonAndNonObjectsAre400() throws Exception {
        error(srv.post("/v1/completions", "{\"prompt\": \"x\""), 400, "invalid_request_error", null);
        error(srv.post("/v1/completions", "[1,2]"), 400, "invalid_request_error", null);
        error(srv.post("/v1/chat/completions", ""), 400, "invalid_request_error", null);
    }

    @Test
    void wrongTypesAndRangesName400Param() throws Exception {
        String[][] cases = {
                {"/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":\"5\"}", "max_tokens"},
                {"/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":0}", "max_tokens"},
                {"/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":2.5}", "max_tokens"},
                {"/v1/completions", "{\"prompt\":\"x\",\"temperature\":2.5}", "temperature"},
                {"/v1/completions", "{\"prompt\":\"x\",\"top_p\":-0.1}", "top_p"},
                {"/v1/completions", "{\"prompt\":\"x\",\"presence_penalty\":3}", "presence_penalty"},
                {"/v1/completions", "{\"prompt\":\"x\",\"frequency_penalty\":\"a\"}", "frequency_penalty"},
                {"/v1/completions", "{\"prompt\":\"x\",\"n\":0}", "n"},
                {"/v1/completions", "{\"prompt\":\"x\",\"seed\":\"1\"}", "seed"},
                {"/v1/completions", "{\"prompt\":\"x\",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", "stop"},
                {"/v1/completions", "{\"prompt\":\"x\",\"stop\":[1]}", "stop"},
                {"/v1/completions", "{\"prompt\":\"x\",\"logprobs\":21}", "logprobs"},
                {"/v1/completions", "{\"prompt\":\"x\",\"echo\":1}", "echo"},
                {"/v1/completions", "{\"prompt\":\"x\",\"stream\":\"yes\"}", "stream"},
                {"/v1/completions", "{\"prompt\":\"x\",\"top_k\":-1}", "top_k"},
                {"/v1/completions", "{\"prompt\":\"x\",\"min_p\":2}", "min_p"},
                {"/v1/completions", "{\"prompt\":\"x\",\"model\":5}", "model"},
                {"/v1/completions", "{\"prompt\":[999]}", "prompt"},
                {"/v1/completions", "{\"prompt\":{}}", "prompt"},
                {"/v1/completions", "{\"max_tokens\":3}", "prompt"},
                {"/v1/chat/completions", "{}", "messages"},
                {"/v1/chat/completions", "{\"messages\":[]}", "messages"},
                {"/v1/chat/completions", "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", "messages[0].role"},
                {"/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", "messages[0].content"},
                {"/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_logprobs\":2}", "top_logprobs"},
                {"/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"logprobs\":1}", "logprobs"},
                {"/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"refuse\"}]}", "messages"},
                {"/tokenize", "{\"content\":5}", "content"},
                {"/detokenize", "{\"tokens\":[1, 5000]}", "tokens"},
        };
        for (String[] c : cases) {
            JsonNode e = error(srv.post(c[0], c[1]), 400, "invalid_request_error", c[2]);
            assertTrue(e.get("message").asText().length() < 300, "one-line message for " + c[1] + ": " + e);
        }
    }

    @Test
    void unknownFieldsAreIgnored() throws Exception {
        TestServer.Raw r = srv.post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":2,\"temperature\":0,\"frobnicate\":[1,{}],\"user\":\"u1\"}");
        assertEquals(200, r.status(), r.text());
        assertEquals("Th", JSON.readTree(r.body()).at("/choices/0/text").asText(), r.text());
    }

    @Test
    void promptLongerThanContextIs400() throws Exception {
        JsonNode e = error(srv.post("/v1/completions", "{\"prompt\":\"" + "a".repeat(300) + "\"}"), 400, "invalid_request_error", "prompt");
        assertEquals("context_length_exceeded", e.get("code").asText());
        e = error(srv.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "a".repeat(300) + "\"}]}"),
                400, "invalid_request_error", "messages");
        assertEquals("context_length_exceeded", e.get("code").asText());
    }

    @Test
    void unknownRouteAndModelAre404() throws Exception {
        error(srv.request("GET", "/v2/nothing"), 404, "not_found_error", null);
        JsonNode e = error(srv.post("/v1/completions", "{\"model\":\"gpt-4o\",\"prompt\":\"x\"}"), 404, "invalid_request_error", "model");
        assertEquals("model_not_found", e.get("code").asText());
        error(srv.request("GET", "/v1/models/gpt-4o"), 404, "invalid_request_error", "model");
        assertEquals(200, srv.request("GET", "/v1/models/" + TestServer.MODEL).status());
    }

    @Test
    void wrongMethodIs405WithAllow() throws Exception {
        TestServer.Raw r = srv.request("GET", "/v1/chat/completions");
        error(r, 405, "invalid_request_error", null);
        assertEquals("POST", r.header("allow"));
        r = srv.post("/health", "{}");
        error(r, 405, "invalid_request_error", null);
        assertEquals("GET", r.header("allow"));
    }

    @Test
    void wrongContentTypeIs415() throws Exception {
        byte[] body = "{\"prompt\":\"x\"}".getBytes(StandardCharsets.UTF_8);
        String head = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: "
                + body.length + "\r\n\r\n";
        error(srv.exchange(head.getBytes(StandardCharsets.US_ASCII), body), 415, "invalid_request_error", null);
        head = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " + body.length + "\r\n\r\n";
        error(srv.exchange(head.getBytes(StandardCharsets.US_ASCII), body), 415, "invalid_request_error", null);
        // a charset parameter is fine
        head = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: "
                + body.length + "\r\n\r\n";
        assertEquals(200, srv.exchange(head.getBytes(StandardCharsets.US_ASCII), body).status());
    }

    @Test
    void hugeBodiesAre413NotReset() throws Exception {
        String big = "{\"prompt\":\"" + "a".repeat(100_000) + "\"}";
        JsonNode e = error(srv.post("/v1/completions", big), 413, "invalid_request_error", null);
        assertEquals("request_too_large", e.get("code").asText());
        // chunked, no Content-Length: the limit trips mid-body
        byte[] chunk = ("{\"prompt\":\"" + "b".repeat(3000)).getBytes(StandardCharsets.US_ASCII);
        try (Socket s = new Socket("127.0.0.1", srv.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 3; i++) {
                out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            error(TestServer.read(s.getInputStream()), 413, "invalid_request_error", null);
        }
    }

    @Test
    void engineFailureBeforeAnyOutputIs500() throws Exception {
        error(srv.post("/v1/completions", "{\"prompt\":\"fail-now\"}"), 500, "server_error", null);
    }

    @Test
    void engineFailureAfterStreamingBeganIsAnErrorEventThenDone() throws Exception {
        TestServer.Raw r = srv.post("/v1/completions", "{\"prompt\":\"fail-later\",\"stream\":true,\"temperature\":0,\"max_tokens\":10}");
        assertEquals(200, r.status());
        String body = r.text();
        List<String> events = SseTest.events(body);
        assertEquals(5, events.size(), body);
        assertEquals("data: [DONE]", events.getLast(), body);
        JsonNode err = JSON.readTree(events.get(3).substring(6)).get("error");
        assertEquals("server_error", err.get("type").asText(), body);
        assertEquals("simulated engine failure", err.get("message").asText(), body);
    }

    @Test
    void queueFullIs429WithRetryAfter() throws Exception {
        try (TestServer small = new TestServer(ServerConfig.loopback(0), 256, 1, true)) {
            small.engine.hold();
            Thread first = Thread.ofVirtual().start(() -> {
                try {
                    small.post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1}");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            TestServer.eventually("first request queued", () -> small.engine.submitted.get() == 1);
            TestServer.Raw r = small.post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1}");
            JsonNode e = error(r, 429, "rate_limit_error", null);
            assertEquals("1", r.header("retry-after"), r.headers().toString());
            assertEquals("rate_limit_exceeded", e.get("code").asText());
            // n beyond the queue: the choices already submitted are cancelled, nothing leaks
            small.engine.release();
            first.join();
            TestServer.eventually("engine idle", () -> small.engine.live.get() == 0);
            small.engine.hold();
            error(small.post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1,\"n\":2}"), 429, "rate_limit_error", null);
            TestServer.eventually("first choice cancelled", () -> small.engine.live.get() == 0 && small.engine.cancelled.get() == 1);
        }
    }

    @Test
    void loadingIs503ThenReady() throws Exception {
        try (TestServer loading = new TestServer(ServerConfig.loopback(0), 256, 8, false)) {
            JsonNode e = error(loading.request("GET", "/health"), 503, "unavailable_error", null);
            assertEquals("Loading model", e.get("message").asText());
            error(loading.post("/v1/completions", "{\"prompt\":\"x\"}"), 503, "unavailable_error", null);
            error(loading.request("GET", "/v1/models"), 503, "unavailable_error", null);
            loading.server.ready(loading.engine);
            TestServer.Raw ok = loading.request("GET", "/health");
            assertEquals(200, ok.status());
            assertEquals("{\"status\":\"ok\"}", ok.text());
        }
    }

    @Test
    void shuttingDownIs503OnOpenConnections() throws Exception {
        try (TestServer s = TestServer.start(); Socket open = new Socket("127.0.0.1", s.port())) {
            open.setSoTimeout(10_000);
            open.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(200, TestServer.readOne(open.getInputStream()).status()); // kept alive
            s.server.beginShutdown();
            open.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            error(TestServer.read(open.getInputStream()), 503, "unavailable_error", null);
        }
    }

    @Test
    void apiKeysAre401ExceptHealth() throws Exception {
        try (TestServer s = new TestServer(ServerConfig.loopback(0).withApiKeys(List.of("k-one", "k-two")), 256, 8, true)) {
            String body = "{\"prompt\":\"x\",\"max_tokens\":1}";
            JsonNode e = error(s.post("/v1/completions", body), 401, "authentication_error", null);
            assertEquals("invalid_api_key", e.get("code").asText());
            error(s.post("/v1/completions", body, "Authorization: Bearer k-three"), 401, "authentication_error", null);
            error(s.post("/v1/completions", body, "Authorization: Basic k-one"), 401, "authentication_error", null);
            error(s.request("GET", "/v1/models"), 401, "authentication_error", null);
            assertEquals(200, s.post("/v1/completions", body, "Authorization: Bearer k-one").status());
            assertEquals(200, s.post("/v1/completions", body, "Authorization: bearer k-two").status());
            assertEquals(200, s.request("GET", "/health").status());
        }
    }

    @Test
    void corsOnlyForAllowedOrigins() throws Exception {
        try (TestServer s = new TestServer(ServerConfig.loopback(0).withCorsOrigins(List.of("http://good.example")), 256, 8, true)) {
            TestServer.Raw pre = s.request("OPTIONS", "/v1/chat/completions", "Origin: http://good.example",
                    "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: authorization, content-type");
            assertEquals(200, pre.status(), pre.headers().toString());
            assertEquals("http://good.example", pre.header("access-control-allow-origin"), pre.headers().toString());
            assertTrue(pre.header("access-control-allow-methods").contains("POST"), pre.headers().toString());
            assertTrue(pre.header("access-control-allow-headers").toLowerCase().contains("authorization"), pre.headers().toString());
            TestServer.Raw bad = s.request("OPTIONS", "/v1/chat/completions", "Origin: http://evil.example",
                    "Access-Control-Request-Method: POST");
            assertNull(bad.header("access-control-allow-origin"), bad.headers().toString());
            assertEquals("http://good.example", s.request("GET", "/health", "Origin: http://good.example")
                    .header("access-control-allow-origin"));
            assertNull(s.request("GET", "/health", "Origin: http://evil.example").header("access-control-allow-origin"));
        }
    }

    @Test
    void oversizedHeadersAre400() throws Exception {
        TestServer.Raw r = srv.request("GET", "/health", "X-Big: " + "h".repeat(40_000));
        error(r, 400, "invalid_request_error", null);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (Socket s = new Socket("127.0.0.1", srv.port())) {
            s.setSoTimeout(10_000);
            String body = "{\"prompt\":\"x\",\"max_tokens\":3,\"temperature\":0}";
            String post = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length() + "\r\n\r\n" + body;
            s.getOutputStream().write((post + "GET /v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n" + post).getBytes(StandardCharsets.US_ASCII));
            TestServer.Raw a = TestServer.readOne(s.getInputStream());
            TestServer.Raw b = TestServer.readOne(s.getInputStream());
            TestServer.Raw c = TestServer.readOne(s.getInputStream());
            assertEquals(List.of(200, 404, 200), List.of(a.status(), b.status(), c.status()), a.text() + b.text() + c.text());
            assertEquals("The", JSON.readTree(c.body()).at("/choices/0/text").asText());
        }
    }
}
