package dev.tandem.engine;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DESIGN.md invariant 4 for the whole decode worker, not just the forward pass: once warm, the
 * decode thread and its pool threads allocate exactly 0 bytes over a window of 1000 steps of a batch of 4 — greedy
 * sampling, stop/length checks, metrics (the Prometheus registry's timers and counters), the hand-off
 * queue and the sinks' calls included. The engine runs in its token-only test mode: the streaming
 * detokenizer's strings (a sink's text) are the one allocation a step makes in normal operation,
 * and they are left out here; so is a request's end (its {@link Usage}).
 *
 * <p>Warm-up matters: before C2 has compiled a kernel, the Vector API boxes vectors (and an
 * interpreted VarHandle call boxes its arguments); JFR shows every allocation seen during warm-up
 * is of that kind (BlockFormat, Ops, SamplerKernels), none is the engine's. Sampled requests
 * (top-k/top-p) are not part of this test: their kernels warm up more slowly than 2048 positions allow.
 */
class SplitDecodeAllocationTest {

    /** Counts tokens; allocates nothing. */
    private static final class CountingSink implements TokenSink {
        final AtomicInteger tokens = new AtomicInteger();
        final CountDownLatch done = new CountDownLatch(1);

        @Override
        public void onToken(int tokenId, String textPiece, Logprobs logprobs) {
            tokens.incrementAndGet();
        }

        @Override
        public void onFinish(FinishReason reason, Usage usage) {
            done.countDown();
        }

        @Override
        public void onError(EngineException error) {
            done.countDown();
        }
    }

    @Test
    void warmDecodeStepsAllocateNothing() throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(mx.isThreadAllocatedMemorySupported(), "this JVM cannot measure thread allocation");
        int rows = 4, ctx = 2048, measured = 1000; // the model's context: 2048
        try (EngineFixture fx = new EngineFixture("llama31-q8_0.gguf")) {
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            EngineConfig cfg = new EngineConfig("test", 1, rows, 16, ctx, rows * ctx, 4);
            SplitConfig split = new SplitConfig(1, 2, List.of(), KvMigration.Strategy.COPY);
            try (SplitEngine engine = new SplitEngine(fx.model, fx.tokenizer, null, cfg, split, registry, true)) {
                // Warm-up: a first batch runs to its end (1000 steps), so the JIT has compiled the step's kernels.
                CountingSink[] warm = new CountingSink[rows];
                for (int i = 0; i < rows; i++) {
                    warm[i] = new CountingSink();
                    engine.submit(EngineFixture.greedy(fx.prompt(4 + i, 50 + i), 1000), warm[i]);
                }
                for (CountingSink s : warm) {
                    assertTrue(s.done.await(60, TimeUnit.SECONDS), "warm-up batch did not finish");
                }
                Thread[] threads = engine.decodeThreads();
                long[] ids = new long[threads.length];
                for (int i = 0; i < threads.length; i++) {
                    ids[i] = threads[i].threadId();
                }
                // Windows of 1000 steps, each over a fresh batch of 4, until one allocates exactly 0 bytes. An allocation
                // in every step (≥ 16 bytes each) fails every window; a one-off — a late JIT recompilation of a Vector API
                // kernel boxes a few vectors until the new code is installed — spoils one window, not the next.
                List<Long> windows = new java.util.ArrayList<>();
                for (int round = 0; round < 4 && !windows.contains(0L); round++) {
                    CountingSink[] sinks = new CountingSink[rows];
                    RequestHandle[] handles = new RequestHandle[rows];
                    for (int i = 0; i < rows; i++) {
                        sinks[i] = new CountingSink();
                        handles[i] = engine.submit(EngineFixture.greedy(fx.prompt(4 + i, 10 * round + i), ctx - 8), sinks[i]);
                    }
                    awaitSteps(sinks[rows - 1], 50); // every request has joined once the last has tokens from decode steps
                    int from = sinks[0].tokens.get();
                    long before = allocated(mx, ids);
                    awaitSteps(sinks[0], from + measured);
                    long bytes = allocated(mx, ids) - before;
                    int steps = sinks[0].tokens.get() - from;
                    windows.add(bytes);
                    System.out.println("split decode allocation: window " + round + ", " + steps + " steps of batch " + rows
                            + ": " + bytes + " bytes");
                    for (int i = 0; i < rows; i++) {
                        assertEquals(1, sinks[i].done.getCount(), "request " + i + " ended during the measurement");
                        handles[i].cancel();
                    }
                    for (CountingSink s : sinks) {
                        assertTrue(s.done.await(30, TimeUnit.SECONDS));
                    }
                }
                assertTrue(windows.contains(0L), "every window of " + measured + " decode steps allocated (bytes per window, "
                        + threads.length + " decode threads): " + windows);
                assertEquals(0, engine.kvPagesUsed());
            }
        }
    }

    private static void awaitSteps(CountingSink s, int tokens) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (s.tokens.get() < tokens) {
            assertTrue(System.nanoTime() < deadline, "no progress to " + tokens + " tokens");
            Thread.sleep(1);
        }
    }

    /** Per-thread queries: the array-returning variant would itself allocate inside the measurement. */
    private static long allocated(com.sun.management.ThreadMXBean mx, long[] ids) {
        long s = 0;
        for (long id : ids) {
            s += mx.getThreadAllocatedBytes(id);
        }
        return s;
    }
}
