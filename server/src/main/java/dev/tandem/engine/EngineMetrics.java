package dev.tandem.engine;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engine's meters (DESIGN.md "Metrics"), registered once per engine. Micrometer names are
 * dotted; the Prometheus registry renders {@code tandem.request.queue} (a timer) as
 * {@code tandem_request_queue_seconds}, {@code tandem.prompt.tokens} (a counter) as
 * {@code tandem_prompt_tokens_total}, and a gauge's name as is — except a trailing {@code _total},
 * which it strips from gauges, so {@code tandem_kv_blocks_total} is a constant counter. The split engine's
 * {@code tandem_kv_migration_*} meters are registered by {@link KvMigration}.
 *
 * <p>Gauges read atomics the scheduler writes; recording a timer or counter takes no engine lock.
 */
final class EngineMetrics {
    final Timer queue;            // tandem_request_queue_seconds: arrival to prefill start
    final Timer prefill;          // tandem_request_prefill_seconds: prefill start to first token
    final Timer timeToFirstToken; // tandem_time_to_first_token_seconds: arrival to first token
    final Timer interToken;       // tandem_inter_token_latency_seconds: between consecutive tokens
    final Timer e2e;              // tandem_request_e2e_seconds: arrival to terminal state

    final AtomicInteger running = new AtomicInteger();   // tandem_requests_running: admitted (prefilling or decoding)
    final AtomicInteger waiting = new AtomicInteger();   // tandem_requests_waiting: accepted, not yet admitted
    final AtomicInteger kvUsed = new AtomicInteger();    // tandem_kv_blocks_used: pages held by requests
    final AtomicInteger kvTotal;                         // tandem_kv_blocks_total: pages in the pool
    final AtomicInteger batchSize = new AtomicInteger(); // tandem_decode_batch_size: rows of the last decode step

    final Counter promptTokens;     // tandem_prompt_tokens_total: prompt tokens prefilled
    final Counter promptTokensCached; // tandem_prompt_tokens_cached_total: prompt tokens whose K/V came from the prefix cache
    final Counter generationTokens; // tandem_generation_tokens_total: tokens generated
    final Counter finished;         // tandem_requests_total{state="finished"}
    final Counter cancelledState;   // tandem_requests_total{state="cancelled"}
    final Counter failed;           // tandem_requests_total{state="failed"}
    final Counter rejected;         // tandem_requests_total{state="rejected"}
    final Counter cancellations;    // tandem_requests_cancelled_total

    EngineMetrics(MeterRegistry r, int kvBlocksTotal) {
        queue = timer(r, "tandem.request.queue", "Time from arrival to prefill start");
        prefill = timer(r, "tandem.request.prefill", "Time from prefill start to the first token");
        timeToFirstToken = timer(r, "tandem.time.to.first.token", "Time from arrival to the first token");
        interToken = timer(r, "tandem.inter.token.latency", "Time between consecutive tokens of a request");
        e2e = timer(r, "tandem.request.e2e", "Time from arrival to the terminal state");

        gauge(r, "tandem.requests.running", running, "Requests admitted: prefilling or decoding");
        gauge(r, "tandem.requests.waiting", waiting, "Requests accepted and waiting for admission");
        gauge(r, "tandem.kv.blocks.used", kvUsed, "KV cache pages held by requests");
        // A constant, registered as a counter: Prometheus reserves the "_total" suffix for counters, and
        // the Prometheus registry strips it from a gauge's name (it would render as tandem_kv_blocks).
        kvTotal = new AtomicInteger(kvBlocksTotal); // a field: a function counter holds its object weakly
        FunctionCounter.builder("tandem.kv.blocks.total", kvTotal, AtomicInteger::get)
                .description("KV cache pages in the pool (constant)").register(r);
        gauge(r, "tandem.decode.batch.size", batchSize, "Sequences in the current decode step");

        promptTokens = Counter.builder("tandem.prompt.tokens").description("Prompt tokens prefilled").register(r);
        promptTokensCached = Counter.builder("tandem.prompt.tokens.cached")
                .description("Prompt tokens not computed: their K/V pages came from the prefix cache").register(r);
        generationTokens = Counter.builder("tandem.generation.tokens").description("Tokens generated").register(r);
        finished = state(r, "finished");
        cancelledState = state(r, "cancelled");
        failed = state(r, "failed");
        rejected = state(r, "rejected");
        cancellations = Counter.builder("tandem.requests.cancelled")
                .description("Requests cancelled (client gone, shutdown)").register(r);
    }

    /** Counts one terminal state: failed, else by {@code reason}; records the end-to-end time. */
    void ended(boolean failure, FinishReason reason, long e2eNanos) {
        record(e2e, e2eNanos);
        if (failure) {
            failed.increment();
        } else if (reason == FinishReason.CANCELLED) {
            cancelledState.increment();
            cancellations.increment();
        } else {
            finished.increment();
        }
    }

    static void record(Timer t, long nanos) {
        t.record(nanos, TimeUnit.NANOSECONDS);
    }

    private static Timer timer(MeterRegistry r, String name, String description) {
        return Timer.builder(name).description(description)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(100_000))
                .maximumExpectedValue(Duration.ofMinutes(10))
                .register(r);
    }

    private static void gauge(MeterRegistry r, String name, AtomicInteger value, String description) {
        Gauge.builder(name, value, AtomicInteger::get).description(description).strongReference(true).register(r);
    }

    private static Counter state(MeterRegistry r, String state) {
        return Counter.builder("tandem.requests").tag("state", state)
                .description("Requests by terminal state").register(r);
    }
}
