package dev.tandem.engine;

import dev.tandem.model.SamplingParams;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Admission, cancellation from every state (queued, prefilling, migrating, decoding), shutdown
 * and metrics of the split engine: every request ends exactly once and its KV pages return to
 * whichever cache held them (invariant 3), in both migrations.
 */
class SplitEngineLifecycleTest {
    private static EngineFixture fx;

    @BeforeAll
    static void load() {
        fx = new EngineFixture("llama31-q8_0.gguf");
    }

    @AfterAll
    static void unload() {
        if (fx != null) {
            fx.close();
        }
    }

    private static GenerationRequest longRequest(int[] prompt) {
        return EngineFixture.greedy(prompt, 10_000);
    }

    private static void assertSettled(SplitEngine engine, String where) {
        assertEquals(0, engine.kvPagesUsed(), where + ": KV pages in use after every request ended");
        assertEquals(0, engine.runningCount(), where + ": running requests after every request ended");
    }

    @ParameterizedTest
    @EnumSource(KvMigration.Strategy.class)
    void fullQueueIsOverloadedAndImpossibleRequestsAreInvalid(KvMigration.Strategy m) throws Exception {
        try (SplitEngine engine = SplitFixture.engine(fx, m, 1, 16, 64, 2)) {
            StallingSink running = new StallingSink(2); // decode worker stalled in token 2; the one slot taken
            RequestHandle a = engine.submit(longRequest(fx.prompt(8, 5)), running);
            running.awaitStalled();
            RecordingSink b = new RecordingSink(), c = new RecordingSink(), d = new RecordingSink();
            engine.submit(EngineFixture.greedy(fx.prompt(4, 6), 2), b);
            engine.submit(EngineFixture.greedy(fx.prompt(4, 7), 2), c);
            EngineException.Rejected e = assertThrows(EngineException.Rejected.class,
                    () -> engine.submit(EngineFixture.greedy(fx.prompt(4, 8), 2), d));
            assertEquals(EngineException.Kind.OVERLOADED, e.kind(), e.getMessage());
            assertEquals("the queue is full (2 requests waiting); retry later", e.getMessage());
            EngineException.Rejected tooLong = assertThrows(EngineException.Rejected.class,
                    () -> engine.submit(EngineFixture.greedy(fx.prompt(64, 9), 1), d));
            assertEquals(EngineException.Kind.INVALID_REQUEST, tooLong.kind());
            assertEquals("the prompt has 64 tokens; the context of 64 holds at most 63 prompt tokens and one generated token",
                    tooLong.getMessage());
            a.cancel();
            running.open();
            running.rec.await();
            b.await();
            c.await();
            assertEquals(FinishReason.CANCELLED, running.rec.reason);
            assertEquals(FinishReason.LENGTH, b.reason, "queued requests run once the slot frees");
            assertEquals(FinishReason.LENGTH, c.reason);
            assertEquals(0, d.terminalCalls.get(), "a rejected request's sink hears nothing");
            assertSettled(engine, m.toString());
        }
    }

    /**
     * One request cancelled in each state, in one engine with 2 running slots. Request A holds the
     * decode worker inside onToken of its token 2 throughout; while it does:
     * <ul>
     *   <li>migrating: B is prefilled, gets its first token and waits in the hand-off queue;</li>
     *   <li>queued: with both slots taken (A, B), C waits for admission;</li>
     * </ul>
     * then, after both are cancelled and A is released and cancelled (decoding), D is cancelled
     * while prefilling (held by the prefill thread after its first chunk).
     */
    @ParameterizedTest
    @EnumSource(KvMigration.Strategy.class)
    void cancelFromEveryStateEndsOnceAndFreesThePages(KvMigration.Strategy m) throws Exception {
        try (SplitEngine engine = SplitFixture.engine(fx, m, 2, 8, 128, 4)) {
            StallingSink a = new StallingSink(2);
            RequestHandle ha = engine.submit(longRequest(fx.prompt(8, 1)), a);
            a.awaitStalled(); // decoding, the decode worker held
            RecordingSink b = new RecordingSink();
            RequestHandle hb = engine.submit(longRequest(fx.prompt(20, 2)), b);
            b.awaitFirstToken();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (engine.handoff.isEmpty()) { // migration starts as onToken returns
                assertTrue(System.nanoTime() < deadline, "B never reached the hand-off queue");
                Thread.onSpinWait();
            }
            RecordingSink c = new RecordingSink();
            RequestHandle hc = engine.submit(longRequest(fx.prompt(5, 3)), c);
            hb.cancel(); // migrating
            hc.cancel(); // queued
            c.await();
            assertEquals(FinishReason.CANCELLED, c.reason, c::toString);
            assertEquals(new Usage(5, 0), c.usage, "queued: no token");
            ha.cancel(); // decoding
            a.open();
            a.rec.await();
            b.await();
            assertEquals(FinishReason.CANCELLED, b.reason, b::toString);
            assertEquals(new Usage(20, 1), b.usage, "migrating: the first token only");
            assertEquals(FinishReason.CANCELLED, a.rec.reason, a.rec::toString);
            assertEquals(new Usage(8, 2), a.rec.usage, "decoding: cancelled within one step");
            assertSettled(engine, m + " after queued, migrating, decoding");

            CountDownLatch inPrefill = new CountDownLatch(1), release = new CountDownLatch(1);
            engine.prefill.afterChunk = () -> {
                inPrefill.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            RecordingSink d = new RecordingSink();
            RequestHandle hd = engine.submit(longRequest(fx.prompt(30, 4)), d); // chunks of 8: held after the first
            assertTrue(inPrefill.await(30, TimeUnit.SECONDS), "D never prefilled a chunk");
            engine.prefill.afterChunk = null;
            assertTrue(engine.kvPagesUsed() > 0, "D holds pages while prefilling");
            hd.cancel();
            release.countDown();
            d.await();
            assertEquals(FinishReason.CANCELLED, d.reason, d::toString);
            assertEquals(new Usage(30, 0), d.usage, "prefilling: no token");
            for (RecordingSink s : List.of(a.rec, b, c, d)) {
                assertEquals(1, s.terminalCalls.get(), s::toString);
                assertEquals(0, s.callsAfterTerminal.get(), s::toString);
            }
            assertSettled(engine, m + " after prefilling");
        }
    }

    /**
     * 50 requests at once into 4 running slots: random prompts, lengths, sampling, stop strings,
     * logprobs, cancels (at once, or after a random token) and broken sinks. Every request ends
     * exactly once, nothing reaches a sink after its end, and the KV pools are whole again.
     */
    @ParameterizedTest
    @EnumSource(KvMigration.Strategy.class)
    void fiftyConcurrentRequestsEachEndExactlyOnce(KvMigration.Strategy m) throws Exception {
        SplittableRandom rnd = new SplittableRandom(424242);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (SplitEngine engine = SplitFixture.engine(fx, m, 4, 8, 96, 64, registry)) {
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
                String what = m + " " + plan.get(i) + " → " + s;
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
            assertSettled(engine, m.toString());
            assertTrue(cancelled > 0 && failed > 0 && finished > 0,
                    "finished " + finished + ", cancelled " + cancelled + ", failed " + failed);
            String text = registry.scrape();
            for (String line : List.of("tandem_requests_total{state=\"finished\"} " + finished + ".0",
                    "tandem_requests_total{state=\"cancelled\"} " + cancelled + ".0",
                    "tandem_requests_total{state=\"failed\"} " + failed + ".0",
                    "tandem_requests_cancelled_total " + cancelled + ".0",
                    "tandem_kv_blocks_used 0.0", "tandem_requests_running 0.0", "tandem_requests_waiting 0.0",
                    "tandem_request_queue_seconds_bucket", "tandem_request_prefill_seconds_bucket",
                    "tandem_time_to_first_token_seconds_bucket", "tandem_inter_token_latency_seconds_bucket",
                    "tandem_request_e2e_seconds_bucket", "tandem_kv_migration_seconds_bucket",
                    "tandem_kv_migration_bytes_total", "tandem_decode_batch_size ")) {
                assertTrue(text.contains(line), () -> m + ": missing \"" + line + "\" in\n" + text);
            }
        }
    }

    @Test
    void shutdownWithGraceLetsRunningAndQueuedRequestsFinish() throws Exception {
        SplitEngine engine = SplitFixture.engine(fx, KvMigration.Strategy.COPY, 2, 16, 128, 4);
        try {
            StallingSink first = new StallingSink(2);
            engine.submit(EngineFixture.greedy(fx.prompt(6, 20), 20), first);
            first.awaitStalled();
            RecordingSink[] s = {new RecordingSink(), new RecordingSink()}; // the second waits for a slot
            for (int i = 0; i < 2; i++) {
                engine.submit(EngineFixture.greedy(fx.prompt(6, 21 + i), 20), s[i]);
            }
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
            assertEquals(0, s[1].tokens.size(), "the third request was still queued when shutdown began");
            first.open();
            stopper.join(30_000);
            assertTrue(!stopper.isAlive(), "shutdown returned");
            for (RecordingSink x : List.of(first.rec, s[0], s[1])) {
                assertEquals(1, x.terminalCalls.get(), x::toString);
                assertEquals(FinishReason.LENGTH, x.reason, x::toString);
                assertEquals(20, x.tokens.size());
            }
            EngineException.Rejected e = assertThrows(EngineException.Rejected.class,
                    () -> engine.submit(EngineFixture.greedy(fx.prompt(4, 1), 1), new RecordingSink()));
            assertEquals(EngineException.Kind.SHUTTING_DOWN, e.kind());
            assertSettled(engine, "grace");
        } finally {
            engine.close();
        }
    }

    @Test
    void closeCancelsDecodingAndQueuedRequests() throws Exception {
        SplitEngine engine = SplitFixture.engine(fx, KvMigration.Strategy.HANDOFF, 1, 16, 128, 4);
        StallingSink running = new StallingSink(2);
        engine.submit(longRequest(fx.prompt(8, 30)), running);
        running.awaitStalled();
        RecordingSink queued = new RecordingSink();
        engine.submit(longRequest(fx.prompt(8, 31)), queued);
        Thread closer = Thread.ofPlatform().start(engine::close);
        while (!engine.shuttingDown()) {
            Thread.onSpinWait();
        }
        running.open();
        closer.join(30_000);
        assertTrue(!closer.isAlive(), "close returned");
        assertEquals(FinishReason.CANCELLED, running.rec.reason, running.rec::toString);
        assertEquals(2, running.rec.tokens.size(), running.rec::toString);
        assertEquals(FinishReason.CANCELLED, queued.reason, queued::toString);
        assertEquals(List.of(), queued.tokens);
        assertEquals(1, running.rec.terminalCalls.get());
        assertEquals(1, queued.terminalCalls.get());
        assertSettled(engine, "close");
        engine.close(); // idempotent
    }
}
