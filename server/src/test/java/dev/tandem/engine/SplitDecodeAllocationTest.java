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
 * decode thread and its pool threads allocate nothing per step over 1000 steps of a batch of 4 — greedy
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
        int rows = 4, ctx = 2048, window = 100, measured = 1000; // the model's context: 2048
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
                CountingSink[] sinks = new CountingSink[rows];
                RequestHandle[] handles = new RequestHandle[rows];
                for (int i = 0; i < rows; i++) {
                    sinks[i] = new CountingSink();
                    handles[i] = engine.submit(EngineFixture.greedy(fx.prompt(4 + i, i), ctx), sinks[i]);
                }
                Thread[] threads = engine.decodeThreads();
                long[] ids = new long[threads.length];
                for (int i = 0; i < threads.length; i++) {
                    ids[i] = threads[i].threadId();
                }
                awaitSteps(sinks[rows - 1], 50); // every request has joined once the last has tokens from decode steps
                int warmWindows = 0;
                List<Long> seen = new java.util.ArrayList<>();
                for (long bytes = -1; bytes != 0; warmWindows++) {
                    assertTrue(warmWindows < 5, () -> "decode steps still allocate after 1000 warm-up steps and 5 windows of " + window
                            + " steps: bytes per window " + seen);
                    long before = allocated(mx, ids);
                    awaitSteps(sinks[0], sinks[0].tokens.get() + window);
                    bytes = allocated(mx, ids) - before;
                    seen.add(bytes);
                }
                int from = sinks[0].tokens.get();
                long before = allocated(mx, ids);
                awaitSteps(sinks[0], from + measured);
                long after = allocated(mx, ids);
                int steps = sinks[0].tokens.get() - from;
                long bytes = after - before;
                System.out.println("split decode allocation: quiet after " + warmWindows + " windows; " + steps
                        + " steps measured; " + bytes + " bytes");
                // The smallest Java object is 16 bytes: anything allocated in every step (or every other
                // step) makes ≥ 16 bytes per step. Less than that over 1000 steps is a one-off — seen here as
                // 0, or a few KB from a late JIT (re)compilation of a Vector API kernel, never the engine's code.
                assertTrue(bytes < 16L * steps, "bytes allocated by the decode worker's " + threads.length + " threads over "
                        + steps + " steps of batch " + rows + ": " + bytes + " (≥ 16 per step means a per-step allocation)");
                for (int i = 0; i < rows; i++) {
                    assertEquals(1, sinks[i].done.getCount(), "request " + i + " still running during the measurement");
                    handles[i].cancel();
                }
                for (CountingSink s : sinks) {
                    assertTrue(s.done.await(30, TimeUnit.SECONDS));
                }
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
