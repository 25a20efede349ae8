package dev.tandem.bench.loadgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The OpenAI-compatible client: {@link java.net.http.HttpClient} over HTTP/1.1 with two callback threads for
 * all streams (no thread per stream). A streamed body goes through {@link SseParser} into a
 * {@link StreamRecorder}; every request ends in exactly one {@link RequestResult}, a failure included
 * (HTTP error status with the server's message, refused connection, broken stream, or {@code timeout}).
 */
final class StreamClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        // Idle pooled connections are dropped after 2 s, before servers close theirs (tandem and llama-server: 5 s):
        // a POST on a connection the server is closing fails, and the client does not retry a POST.
        if (System.getProperty("jdk.httpclient.keepalive.timeout") == null) {
            System.setProperty("jdk.httpclient.keepalive.timeout", "2");
        }
    }

    private final URI base;
    private final String apiKey;
    private final Duration timeout;
    private final ExecutorService callbacks;
    private final ScheduledExecutorService timer;
    private final HttpClient http;

    /** {@code base}: e.g. http://127.0.0.1:8080; {@code apiKey} may be null; {@code timeout} bounds each request from send to end. */
    StreamClient(URI base, String apiKey, Duration timeout) {
        this.base = base;
        this.apiKey = apiKey;
        this.timeout = timeout;
        this.callbacks = Executors.newFixedThreadPool(2, Thread.ofPlatform().daemon().name("loadgen-http-", 0).factory());
        this.timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("loadgen-timer").factory());
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(callbacks)
                .connectTimeout(Duration.ofSeconds(Math.max(1, Math.min(10, timeout.toSeconds())))).build();
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path.startsWith("/") ? path.substring(1) : path)).timeout(timeout);
        if (apiKey != null && !apiKey.isEmpty()) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return b;
    }

    /** Sends one streamed generation request; the future always completes normally. */
    CompletableFuture<RequestResult> send(PlannedRequest p, String endpoint, byte[] body) {
        HttpRequest req = request(endpoint).header("Content-Type", "application/json").header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        CompletableFuture<RequestResult> out = new CompletableFuture<>();
        AtomicReference<SseSubscriber> sub = new AtomicReference<>();
        long start = System.nanoTime();
        CompletableFuture<HttpResponse<RequestResult>> cf = http.sendAsync(req, info -> {
            if (info.statusCode() != 200) {
                int status = info.statusCode();
                return HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofByteArray(),
                        bytes -> RequestResult.failed(p, "HTTP " + status, "HTTP " + status + ": " + errorMessage(bytes)));
            }
            SseSubscriber s = new SseSubscriber(new StreamRecorder(p, start));
            sub.set(s);
            return s;
        });
        cf.whenComplete((resp, t) -> out.complete(t == null ? resp.body() : failure(p, t)));
        var timeoutTask = timer.schedule(() -> {
            if (out.complete(RequestResult.failed(p, "timeout", "no complete response within " + timeout.toSeconds() + " s"))) {
                SseSubscriber s = sub.get();
                if (s != null) {
                    s.cancel();
                }
                cf.cancel(true);
            }
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        out.whenComplete((r, t) -> timeoutTask.cancel(false));
        return out;
    }

    /** GET {@code path} → JSON; IOException with the status and message when it is not 200. */
    JsonNode getJson(String path) throws IOException, InterruptedException {
        return json(http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofByteArray()), path);
    }

    /** POST JSON to {@code path} → JSON; IOException with the status and message when it is not 200. */
    JsonNode postJson(String path, Object body) throws IOException, InterruptedException {
        HttpRequest req = request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build();
        return json(http.send(req, HttpResponse.BodyHandlers.ofByteArray()), path);
    }

    private static JsonNode json(HttpResponse<byte[]> r, String path) throws IOException {
        if (r.statusCode() != 200) {
            throw new IOException(path + " answered HTTP " + r.statusCode() + ": " + errorMessage(r.body()));
        }
        return JSON.readTree(r.body());
    }

    /** The message of an OpenAI or llama-server error body, else the body itself (abbreviated). */
    static String errorMessage(byte[] body) {
        String s = new String(body, StandardCharsets.UTF_8).strip();
        try {
            JsonNode n = JSON.readTree(s);
            if (n != null && n.has("error")) {
                return StreamRecorder.message(n.get("error"));
            }
        } catch (IOException e) {
            // not JSON: the text as it is
        }
        return s.isEmpty() ? "(empty body)" : StreamRecorder.abbreviate(s);
    }

    static RequestResult failure(PlannedRequest p, Throwable t) {
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        if (t instanceof ConnectException || t instanceof HttpConnectTimeoutException) {
            return RequestResult.failed(p, "connection failed", "cannot connect: " + msg);
        }
        if (t instanceof HttpTimeoutException) {
            return RequestResult.failed(p, "timeout", "timeout: " + msg);
        }
        if (t instanceof IOException) {
            return RequestResult.failed(p, "I/O error", "I/O error: " + msg);
        }
        return RequestResult.failed(p, t.getClass().getSimpleName(), t.getClass().getSimpleName() + ": " + msg);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        http.shutdownNow();
        callbacks.shutdownNow();
    }

    /** A streamed 200 body: bytes → SSE events → the recorder; completes when the body ends. */
    private static final class SseSubscriber implements HttpResponse.BodySubscriber<RequestResult> {
        private final StreamRecorder recorder;
        private final SseParser parser;
        private final CompletableFuture<RequestResult> result = new CompletableFuture<>();
        private volatile Flow.Subscription subscription;
        private volatile boolean cancelled;

        SseSubscriber(StreamRecorder recorder) {
            this.recorder = recorder;
            this.parser = new SseParser(recorder);
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (cancelled) {
                s.cancel();
            } else {
                s.request(Long.MAX_VALUE);
            }
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            long now = System.nanoTime();
            try {
                for (ByteBuffer b : items) {
                    parser.feed(b, now);
                }
            } catch (IllegalStateException e) {
                result.completeExceptionally(new IOException(e.getMessage()));
                cancel();
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            long now = System.nanoTime();
            parser.end(now);
            result.complete(recorder.finish(now));
        }

        @Override
        public CompletionStage<RequestResult> getBody() {
            return result;
        }

        void cancel() {
            cancelled = true;
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
        }
    }
}
