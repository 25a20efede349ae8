package dev.tandem.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** CPU pinning through sched_setaffinity (Linux): a thread pinned to CPU 1 reads back exactly {1}; a refusal is a value. */
class AffinityTest {
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

    private static void assumeCpu1() {
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "sched_setaffinity is Linux only");
        assumeTrue(Affinity.current().contains(1), () -> "this process may not run on CPU 1: " + Affinity.current());
    }

    private static <T> T onNewThread(java.util.function.Supplier<T> body) throws InterruptedException {
        AtomicReference<T> out = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> out.set(body.get()));
        t.join();
        return out.get();
    }

    @Test
    void pinningToCpu1ReadsBackCpu1() throws Exception {
        assumeCpu1();
        Affinity.Result r = onNewThread(() -> Affinity.pin(List.of(1)));
        assertNull(r.error(), r::toString);
        assertEquals(List.of(1), r.cpus());
        assertTrue(Affinity.current().size() >= 1, "the calling thread is not affected");
    }

    @Test
    void aRefusedMaskIsReportedNotThrown() throws Exception {
        assumeCpu1();
        List<Integer> before = onNewThread(Affinity::current);
        Affinity.Result r = onNewThread(() -> Affinity.pin(List.of(1000))); // no such CPU here: EINVAL
        assertFalse(r.pinned(), r::toString);
        assertTrue(r.error().startsWith("sched_setaffinity([1000]) refused, errno 22"), r.error());
        assertEquals(before, r.cpus(), "the thread keeps the CPUs it had");
        Affinity.Result outside = Affinity.pin(List.of(5000));
        assertEquals("CPU 5000 is outside 0..1023", outside.error());
    }

    @Test
    void theDecodeWorkerAndItsPoolArePinned() throws Exception {
        assumeCpu1();
        SplitConfig split = new SplitConfig(1, 2, List.of(1), KvMigration.Strategy.HANDOFF);
        try (SplitEngine engine = new SplitEngine(fx.model, fx.tokenizer, null,
                new EngineConfig("test", 1, 2, 16, 64, 128, 4), split, new io.micrometer.core.instrument.simple.SimpleMeterRegistry())) {
            RecordingSink s = new RecordingSink();
            engine.submit(EngineFixture.greedy(fx.prompt(5, 1), 4), s); // the worker has pinned itself before its first step
            s.await();
            assertEquals(List.of(1), engine.decodeCpus());
            assertEquals(4, s.tokens.size(), s::toString);
            List<Integer> rest = new java.util.ArrayList<>(Affinity.current());
            rest.remove(Integer.valueOf(1));
            EngineStatus st = Engines.status(engine);
            EngineStatus.Worker p = st.workers().get(0), d = st.workers().get(1);
            // batch sizes are live gauges (the last step's), so they are taken as read
            assertEquals(new EngineStatus("split", dev.tandem.kernels.IntKernels.choice(), "handoff", List.of(
                    new EngineStatus.Worker("prefill", 1, rest, !rest.isEmpty(), p.batch()),
                    new EngineStatus.Worker("decode", 2, List.of(1), true, d.batch())), 0, 0, 0, 8), st,
                    "the prefill pool keeps off the decode CPU");
        }
    }
}
