package dev.tandem.model;

import dev.tandem.kernels.Parallel;
import dev.tandem.testing.Shared;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DESIGN.md invariant 4, for the forward pass: once warm, decode steps allocate nothing on any thread. */
class DecodeAllocationTest {

    @ParameterizedTest(name = "kernels {0}")
    @EnumSource(Kernels.class)
    void warmDecodeStepsAllocateNothing(Kernels kernels) {
        kernels.run(DecodeAllocationTest::check);
    }

    private static void check() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(mx.isThreadAllocatedMemorySupported(), "this JVM cannot measure thread allocation");
        try (Model model = Model.load(Shared.model("ref/llama31-q8_0.gguf")); Parallel pool = new Parallel(2, "alloc")) {
            ModelConfig c = model.config();
            int warm = 1500, window = 900, attempts = 8;
            int total = warm + attempts * window + 8;
            KvCache kv = KvCache.forPositions(c, 2 * total + 32, 16);
            Sequence a = new Sequence(total, 16), b = new Sequence(total, 16);
            assertTrue(kv.reserve(a, total) && kv.reserve(b, total));
            Forward fw = new Forward(model, kv, pool, 4);
            Sequence[] seqs = {a, b};
            int[] tokens = {1, 2};
            float[] logits = new float[2 * c.vocab()];
            for (int i = 0; i < warm; i++) {
                step(fw, seqs, tokens, logits, c.vocab());
            }
            long[] ids = ids(pool);
            // A step that allocates makes every window non-zero. A window may still see a few hundred bytes
            // when the JIT recompiles a method (its C1 code boxes vectors until C2's replaces it), a one-off
            // that a loaded machine makes later and likelier; so: some window of 900 consecutive warm steps,
            // within a bounded number, must allocate exactly nothing.
            List<Long> windows = new ArrayList<>();
            for (int w = 0; w < attempts; w++) {
                long before = allocated(mx, ids);
                for (int i = 0; i < window; i++) {
                    step(fw, seqs, tokens, logits, c.vocab());
                }
                windows.add(allocated(mx, ids) - before);
                if (windows.getLast() == 0) {
                    break;
                }
            }
            System.out.println("decode allocation (kernels " + (dev.tandem.kernels.IntKernels.enabled() ? "q8" : "f32") + "): bytes per window of " + window + " warm steps (batch 2, caller + workers): " + windows);
            assertEquals(0L, windows.getLast(), "no window of " + window + " warm decode steps allocated nothing: " + windows);
        }
    }

    private static void step(Forward fw, Sequence[] seqs, int[] tokens, float[] logits, int vocab) {
        fw.decode(seqs, tokens, 2, logits);
        tokens[0] = (tokens[0] * 31 + 7) % vocab;
        tokens[1] = (tokens[1] * 17 + 3) % vocab;
    }

    private static long[] ids(Parallel pool) {
        Thread[] w = pool.workers();
        long[] ids = new long[w.length + 1];
        ids[0] = Thread.currentThread().threadId();
        for (int i = 0; i < w.length; i++) {
            ids[i + 1] = w[i].threadId();
        }
        return ids;
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
