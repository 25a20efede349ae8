package dev.tandem.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The front end's meters, in the registry shared with the engine: request durations by route and status,
 * live requests, stream buffering (bytes held for slow clients, the largest any one stream held) and the
 * requests cancelled because the client left or read too slowly.
 */
public final class HttpMetrics {
    private final MeterRegistry registry;
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicLong buffered = new AtomicLong();
    private final AtomicLong bufferedMax = new AtomicLong();
    private final Counter disconnects;
    private final Counter overflows;

    public HttpMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("tandem_http_requests_active", active, AtomicInteger::get)
                .description("HTTP requests being answered").register(registry);
        Gauge.builder("tandem_http_stream_buffered_bytes", buffered, AtomicLong::get)
                .description("bytes held for streams whose client reads slower than we write").register(registry);
        Gauge.builder("tandem_http_stream_buffered_bytes_max", bufferedMax, AtomicLong::get)
                .description("most bytes one stream has held at once since start").register(registry);
        disconnects = Counter.builder("tandem_http_client_disconnects").description("requests cancelled because the client left")
                .register(registry);
        overflows = Counter.builder("tandem_http_stream_overflows")
                .description("streams cancelled because the client read too slowly (buffer limit reached)").register(registry);
    }

    void requestStarted() {
        active.incrementAndGet();
    }

    void requestEnded(String route, int status, long nanos) {
        active.decrementAndGet();
        Timer.builder("tandem_http_requests").description("HTTP requests by route and status")
                .tag("route", route).tag("status", Integer.toString(status))
                .register(registry).record(Duration.ofNanos(nanos));
    }

    /** A stream's buffered bytes changed by {@code delta}; {@code nowHeld} is that stream's total. */
    void buffered(long delta, long nowHeld) {
        buffered.addAndGet(delta);
        bufferedMax.accumulateAndGet(nowHeld, Math::max);
    }

    void clientGone() {
        disconnects.increment();
    }

    void overflowed() {
        overflows.increment();
    }

    public int activeRequests() {
        return active.get();
    }

    public long bufferedBytes() {
        return buffered.get();
    }

    public long bufferedBytesMax() {
        return bufferedMax.get();
    }

    public long disconnects() {
        return (long) disconnects.count();
    }

    public long overflows() {
        return (long) overflows.count();
    }
}
