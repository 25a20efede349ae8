package dev.tandem.engine;

import dev.tandem.model.SamplingParams;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Admission, cancellation, shutdown and metrics: every request ends exactly once and gives back its KV pages (invariant 3). */
class ColocatedEngineLifecycleTest {
    private static EngineFixture fx;

    @BeforeAll
    static void load() {
        fx = new EngineFixture("llama31-q8_0.gguf"); // 512-entry vocabulary: the fastest reference model
    }

    @AfterAll
    static void unload() {
        if (fx != null) {
            fx.close();
        }
    }

    /** A request that runs until the context end (long enough to be cancelled while running). */
    private static GenerationRequest longRequest(int[] prompt) {
        return EngineFixture.greedy(prompt, 10_000);
    }

    private static void assertSettled(ColocatedEngine engine) {
        assertEquals(0, engine.kvPagesUsed(), "KV pages in use after every request ended");
        assertEquals(0, engine.runningCount(), "running requests after every request ended");
    }

    @Test
    void cancelWhileRunningEndsOnceAsCancelled() throws Exception {
        try (ColocatedEngine engine = fx.engine(2, 128, 4)) {
            RecordingSink s = RecordingSink.gated();
            RequestHandle h = engine.submit(longRequest(fx.prompt(8, 1)), s);
            s.awaitFirstToken(); // the scheduler is inside onToken of token 1
            h.cancel();
            h.cancel(); // idempotent
            s.open();
            s.await();
            assertEquals(FinishReason.CANCELLED, s.reason, s::toString);
            assertEquals(1, s.tokens.size(), () -> "cancelled within one decode step: " + s);
            assertEquals(new Usage(8, 1), s.usage);
            assertSettled(engine);
            h.cancel(); // after the end: nothing happens
            RecordingSink after = new RecordingSink();
            engine.submit(EngineFixture.greedy(fx.prompt(4, 2), 3), after);
            after.await();
            assertEquals(1, s.terminalCalls.get());
            assertEquals(0, s.callsAfterTerminal.get());
        }
    }

    @Test
    void cancelWhileQueuedEndsOnceWithNoTokens() throws Exception {
        try (ColocatedEngine engine = fx.engine(1, 128, 4)) {
            RecordingSink running = RecordingSink.gated();
            RequestHandle a = engine.submit(longRequest(fx.prompt(8, 3)), running);
            running.awaitFirstToken(); // holds the only running slot, the scheduler stalled in onToken
            RecordingSink queued = new RecordingSink();
            RequestHandle b = engine.submit(EngineFixture.greedy(fx.prompt(6, 4), 5), queued);
            b.cancel();
            running.open();
            queued.await();
            assertEquals(FinishReason.CANCELLED, queued.reason, queued::toString);
            assertEquals(List.of(), queued.tokens);
            assertEquals(new Usage(6, 0), queued.usage);
            a.cancel();
            running.await();
            assertEquals(FinishReason.CANCELLED, running.reason);
            assertSettled(engine);
            assertEquals(1, queued.terminalCalls.get());
            assertEquals(1, running.terminalCalls.get());
        }
    }

    @Test
    void fullQueueIsRejectedAtOnceAsOverloaded() throws Exception {
        try (ColocatedEngine engine = fx.engine(1, 128, 2)) {
            RecordingSink running = RecordingSink.gated();
            RequestHandle a = engine.submit(longRequest(fx.prompt(8, 5)), running);
            running.awaitFirstToken(); // admitted, the one running slot taken, the scheduler stalled in onToken
            RecordingSink b = new RecordingSink(), c = new RecordingSink(), d = new RecordingSink();
            RequestHandle hb = engine.submit(EngineFixture.greedy(fx.prompt(4, 6), 2), b);
            RequestHandle hc = engine.submit(EngineFixture.greedy(fx.prompt(4, 7), 2), c);
            EngineException.Rejected e = assertThrows(EngineException.Rejected.class,
                    () -> engine.submit(EngineFixture.greedy(fx.prompt(4, 8), 2), d));
            assertEquals(EngineException.Kind.OVERLOADED, e.kind(), e.getMessage());
            assertEquals("the queue is full (2 requests waiting); retry later", e.getMessage());
            a.cancel();
            running.open();
            running.await();
            b.await();
            c.await();
            assertEquals(FinishReason.LENGTH, b.reason, "queued requests run once the slot frees");
            assertEquals(FinishReason.LENGTH, c.reason);
            assertEquals(0, d.terminalCalls.get(), "a rejected request's sink hears nothing");
            hb.cancel();
            hc.cancel();
            assertSettled(engine);
        }
    }

    @Test
    void invalidRequestsAreRejectedWithAReadableMessage() {
        try (ColocatedEngine engine = fx.engine(1, 64, 2)) {
            RecordingSink s = new RecordingSink();
            EngineException.Rejected tooLong = assertThrows(EngineException.Rejected.class,
                    () -> engine.submit(EngineFixture.greedy(fx.prompt(64, 9), 1), s));
            assertEquals(EngineException.Kind.INVALID_REQUEST, tooLong.kind());
            assertEquals("the prompt has 64 tokens; the context of 64 holds at most 63 prompt tokens and one generated token",
                    tooLong.getMessage());
            int[] bad = fx.prompt(5, 9);
            bad[2] = fx.vocab;
            EngineException.Rejected badId = assertThrows(EngineException.Rejected.class,
                    () -> engine.submit(EngineFixture.greedy(bad, 1), s));
            assertEquals(EngineException.Kind.INVALID_REQUEST, badId.kind());
            assertEquals("prompt token 2 is 512, outside the vocabulary (0..511)", badId.getMessage());
            GenerationRequest badSampling = new GenerationRequest(fx.prompt(5, 9),
                    SamplingParams.greedy().withTemperature(-1f), 1, List.of(), false, false, 0);
            EngineException.Rejected e = assertThrows(EngineException.Rejected.class, () -> engine.submit(badSampling, s));
            assertEquals(EngineException.Kind.INVALID_REQUEST, e.kind());
            assertEquals(0, s.terminalCalls.get());
        }
    }

    /**
     * 50 requests at once into 4 running slots: random prompts, lengths, sampling, stop strings,
     * logprobs, cancels (at once, or after a random token) and broken sinks. Every request ends
     * exactly once, nothing reaches a sink after its end, and the KV pool is whole again.
     */
    @Test
    void fiftyConcurrentRequestsEachEndExactlyOnce() throws Exception {
        SplittableRandom rnd = new SplittableRandom(424242);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        EngineConfig cfg = new EngineConfig("test", 2, 4, 8, 96, 4 * 96, 64);
        try (ColocatedEngine engine = new ColocatedEngine(fx.model, fx.tokenizer, null, cfg, registry)) {
            List<RecordingSink> sinks = new ArrayList<>();
            List<String> plan = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                int[] p = fx.prompt(1 + rnd.nextInt(40), 1000 + i);
                SamplingParams sp = rnd.nextBoolean() ? SamplingParams.greedy()
                        : new SamplingParams(1f, 0, 0.9f, 0f, 1f, 0.5f, 0.2f, 32, rnd.nextLong());
                List<String> stop = rnd.nextInt(4) == 0 ? List.of("e", "th") : List.of();
                GenerationRequest r = new GenerationRequest(p, sp, 1 + rnd.nextInt(30), stop, rnd.nextBoolean(),
                        rnd.nextBoolean(), rnd.nextInt(3));
                RecordingSink s = new RecordingSink();
                int fate = rnd.nextInt(6); // 0: cancel at once, 1: cancel after a token, 2: sink throws, else run
                if (fate == 2) {
                    s.throwOnToken = 1 + rnd.nextInt(3);
                }
                RequestHandle h = engine.submit(r, s);
                if (fate == 0) {
                    h.cancel();
                }
                sinks.add(s);
                plan.add("request " + i + " fate " + fate + ": " + r);
                if (fate == 1) {
                    Thread.ofPlatform().daemon().start(() -> {
                        try {
                            s.firstToken.await();
                        } catch (InterruptedException e) {
                            return;
                        }
                        h.cancel();
                    });
                }
            }
            int finished = 0, cancelled = 0, failed = 0;
            for (int i = 0; i < 50; i++) {
                RecordingSink s = sinks.get(i).await();
                String what = plan.get(i) + " → " + s;
                assertEquals(1, s.terminalCalls.get(), what);
                if (s.error != null) {
                    failed++;
                    assertTrue(s.throwOnToken > 0, what);
                    assertEquals(EngineException.Kind.INTERNAL, s.error.kind(), what);
                    assertEquals(s.throwOnToken, s.tokens.size(), what);
                } else {
                    assertEquals(s.tokens.size(), s.usage.completionTokens(), what);
                    if (s.reason == FinishReason.CANCELLED) {
                        cancelled++;
                    } else {
                        finished++;
                    }
                }
            }
            engine.shutdown(0);
            for (int i = 0; i < 50; i++) {
                assertEquals(1, sinks.get(i).terminalCalls.get(), plan.get(i));
                assertEquals(0, sinks.get(i).callsAfterTerminal.get(), plan.get(i));
            }
            assertSettled(engine);
            assertTrue(cancelled > 0 && failed > 0 && finished > 0,
                    "finished " + finished + ", cancelled " + cancelled + ", failed " + failed);
            String text = registry.scrape();
            assertTrue(text.contains("tandem_requests_total{state=\"finished\"} " + finished + ".0"), text);
            assertTrue(text.contains("tandem_requests_total{state=\"cancelled\"} " + cancelled + ".0"), text);
            assertTrue(text.contains("tandem_requests_total{state=\"failed\"} " + failed + ".0"), text);
            assertTrue(text.contains("tandem_requests_cancelled_total " + cancelled + ".0"), text);
            assertTrue(text.contains("tandem_kv_blocks_used 0.0"), text);
            assertTrue(text.contains("tandem_requests_running 0.0"), text);
            assertTrue(text.contains("tandem_requests_waiting 0.0"), text);
        }
    }

    @Test
    void shutdownWithGraceLetsRunningRequestsFinish() throws Exception {
        ColocatedEngine engine = fx.engine(2, 128, 4);
        try {
            RecordingSink[] s = new RecordingSink[3]; // 2 running slots: the third waits in the queue
            for (int i = 0; i < 3; i++) {
                s[i] = i == 0 ? RecordingSink.gated() : new RecordingSink();
                engine.submit(EngineFixture.greedy(fx.prompt(6, 20 + i), 20), s[i]);
            }
            s[0].awaitFirstToken(); // the scheduler is stalled: nothing has finished yet
            Thread stopper = Thread.ofPlatform().start(() -> {
                try {
                    engine.shutdown(60_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            while (!engine.shuttingDown()) {
                Thread.onSpinWait();
            }
            assertEquals(0, s[2].tokens.size(), "the third request was still queued when shutdown began");
            s[0].open();
            stopper.join(30_000);
            assertTrue(!stopper.isAlive(), "shutdown returned");
            for (RecordingSink x : s) {
                assertEquals(1, x.terminalCalls.get(), x::toString);
                assertEquals(FinishReason.LENGTH, x.reason, x::toString);
                assertEquals(20, x.tokens.size());
            }
            EngineException.Rejected e = assertThrows(EngineException.Rejected.class,
                    () -> engine.submit(EngineFixture.greedy(fx.prompt(4, 1), 1), new RecordingSink()));
            assertEquals(EngineException.Kind.SHUTTING_DOWN, e.kind());
            assertSettled(engine);
        } finally {
            engine.close();
        }
    }

    @Test
    void shutdownWithoutGraceCancelsRunningAndQueuedRequests() throws Exception {
        ColocatedEngine engine = fx.engine(1, 128, 4);
        RecordingSink running = RecordingSink.gated(), queued = new RecordingSink();
        engine.submit(longRequest(fx.prompt(8, 30)), running);
        running.awaitFirstToken(); // the scheduler is stalled inside onToken of token 1
        engine.submit(longRequest(fx.prompt(8, 31)), queued);
        Thread closer = Thread.ofPlatform().start(engine::close); // shutdown(0), then the threads stop
        while (!engine.shuttingDown()) {
            Thread.onSpinWait();
        }
        running.open();
        closer.join(30_000);
        assertEquals(FinishReason.CANCELLED, running.reason, running::toString);
        assertEquals(1, running.tokens.size(), running::toString);
        assertEquals(FinishReason.CANCELLED, queued.reason, queued::toString);
        assertEquals(List.of(), queued.tokens);
        assertEquals(1, running.terminalCalls.get());
        assertEquals(1, queued.terminalCalls.get());
        assertSettled(engine);
        engine.close(); // idempotent
    }

    @Test
    void everyMetricOfDesignMdIsRendered() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        EngineConfig cfg = new EngineConfig("test", 1, 2, 16, 64, 128, 2);
        try (ColocatedEngine engine = new ColocatedEngine(fx.model, fx.tokenizer, null, cfg, registry)) {
            RecordingSink s = new RecordingSink();
            engine.submit(EngineFixture.greedy(fx.prompt(10, 40), 5), s);
            s.await();
            assertThrows(EngineException.Rejected.class,
                    () -> engine.submit(EngineFixture.greedy(fx.prompt(64, 41), 1), new RecordingSink()));
            String text = registry.scrape();
            for (String name : List.of(
                    "tandem_request_queue_seconds_bucket", "tandem_request_prefill_seconds_bucket",
                    "tandem_time_to_first_token_seconds_bucket", "tandem_inter_token_latency_seconds_bucket",
                    "tandem_request_e2e_seconds_bucket",
                    "tandem_requests_running ", "tandem_requests_waiting ",
                    "tandem_kv_blocks_used ", "tandem_kv_blocks_total 8.0", "tandem_decode_batch_size ",
                    "tandem_prompt_tokens_total 10.0", "tandem_generation_tokens_total 5.0",
                    "tandem_requests_total{state=\"finished\"} 1.0", "tandem_requests_total{state=\"rejected\"} 1.0",
                    "tandem_requests_total{state=\"cancelled\"} 0.0", "tandem_requests_total{state=\"failed\"} 0.0",
                    "tandem_requests_cancelled_total 0.0",
                    "tandem_time_to_first_token_seconds_count 1", "tandem_inter_token_latency_seconds_count 4")) {
                assertTrue(text.contains(name), () -> "missing \"" + name + "\" in\n" + text);
            }
            assertNull(s.error);
        }
    }
}
