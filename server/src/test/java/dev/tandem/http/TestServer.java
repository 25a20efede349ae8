package dev.tandem.http;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A real server on an ephemeral loopback port over a {@link FakeEngine}, and raw-socket HTTP for exact bytes. */
final class TestServer implements AutoCloseable {
    static final String MODEL = "fake-model";
    final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    final FakeEngine engine;
    final HttpServer server;
    private final int fixedPort; // > 0: a client of some other server (no engine, no server object)

    /** Raw HTTP against a server on {@code port} (another process). */
    record Client(int port) {
        TestServer asServer() {
            return new TestServer(port);
        }
    }

    private TestServer(int port) {
        this.engine = null;
        this.server = null;
        this.fixedPort = port;
    }

    TestServer(ServerConfig config, int contextLength, int capacity, boolean ready) throws InterruptedException {
        fixedPort = 0;
        engine = new FakeEngine(MODEL, contextLength, capacity, registry);
        server = HttpServer.start(config, registry, log::add);
        if (ready) {
            server.ready(engine);
        }
    }

    static TestServer start() throws InterruptedException {
        return new TestServer(ServerConfig.loopback(0), 256, 64, true);
    }

    int port() {
        return fixedPort > 0 ? fixedPort : server.port();
    }

    @Override
    public void close() {
        server.close();
        engine.close();
    }

    record Raw(int status, Map<String, String> headers, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** POST with JSON, Connection: close; the whole response (chunked bodies de-chunked). */
    Raw post(String path, String json, String... extraHeaders) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n");
        for (String h : extraHeaders) {
            head.append(h).append("\r\n");
        }
        return exchange(head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII), body);
    }

    Raw request(String method, String path, String... extraHeaders) throws IOException {
        StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        for (String h : extraHeaders) {
            head.append(h).append("\r\n");
        }
        return exchange(head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII), new byte[0]);
    }

    Raw exchange(byte[] head, byte[] body) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port())) {
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            out.write(head);
            out.write(body);
            out.flush();
            return read(s.getInputStream());
        }
    }

    /** Reads one response until EOF (the request said Connection: close). */
    static Raw read(InputStream in) throws IOException {
        byte[] all = in.readAllBytes();
        int split = indexOf(all, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        if (split < 0) {
            throw new IOException("no complete response head in " + all.length + " bytes: " + new String(all, StandardCharsets.UTF_8));
        }
        String[] lines = new String(all, 0, split, StandardCharsets.US_ASCII).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
        }
        byte[] body = java.util.Arrays.copyOfRange(all, split + 4, all.length);
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            body = dechunk(body);
        }
        return new Raw(status, headers, body);
    }

    /** Reads one Content-Length response from a kept-alive connection. */
    static Raw readOne(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed inside a response head: " + head);
            }
            head.write(b);
        }
        Raw h = read(new java.io.ByteArrayInputStream(head.toByteArray()));
        byte[] body = in.readNBytes(Integer.parseInt(h.header("content-length")));
        return new Raw(h.status(), h.headers(), body);
    }

    static byte[] dechunk(byte[] b) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (true) {
            int eol = indexOf(b, i, "\r\n".getBytes(StandardCharsets.US_ASCII));
            if (eol < 0) {
                throw new IOException("truncated chunked body after " + out.size() + " bytes");
            }
            int size = Integer.parseInt(new String(b, i, eol - i, StandardCharsets.US_ASCII).trim(), 16);
            if (size == 0) {
                if (i + 5 < b.length) {
                    throw new IOException("bytes after the last chunk: " + new String(b, i, b.length - i, StandardCharsets.UTF_8));
                }
                return out.toByteArray();
            }
            out.write(b, eol + 2, size);
            i = eol + 2 + size + 2;
        }
    }

    static int indexOf(byte[] b, byte[] pat) {
        return indexOf(b, 0, pat);
    }

    static int indexOf(byte[] b, int from, byte[] pat) {
        outer:
        for (int i = from; i + pat.length <= b.length; i++) {
            for (int j = 0; j < pat.length; j++) {
                if (b[i + j] != pat[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Waits up to 5 s for a condition the server reaches asynchronously. */
    static void eventually(String what, java.util.function.BooleanSupplier cond) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }
}
