package dev.tandem.model;

import dev.tandem.kernels.Parallel;
import dev.tandem.testing.Shared;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DESIGN.md invariant 4, for the forward pass: once warm, a decode step allocates nothing on any thread. */
class DecodeAllocationTest {

    @Test
    void warmDecodeStepsAllocateNothing() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(mx.isThreadAllocatedMemorySupported(), "this JVM cannot measure thread allocation");
        try (Model model = Model.load(Shared.model("ref/llama31-q8_0.gguf")); Parallel pool = new Parallel(2, "alloc")) {
            ModelConfig c = model.config();
            int warm = 1500, window = 100, measured = 3 * 300;
            int total = warm + 20 * window + measured + 8;
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
            // Warm means: the JIT has compiled what a step runs. Wait (bounded) for a first quiet window,
            // since a late compilation can still box a vector once; then every later step must be quiet.
            int warmWindows = 0;
            for (long bytes = -1; bytes != 0; warmWindows++) {
                assertTrue(warmWindows < 20, "decode steps still allocate after " + (warm + 20 * window) + " warm-up steps");
                long before = allocated(mx, ids);
                for (int i = 0; i < window; i++) {
                    step(fw, seqs, tokens, logits, c.vocab());
                }
                bytes = allocated(mx, ids) - before;
            }
            long before = allocated(mx, ids);
            for (int i = 0; i < measured; i++) {
                step(fw, seqs, tokens, logits, c.vocab());
            }
            long after = allocated(mx, ids);
            System.out.println("decode allocation: quiet after " + warm + " + " + warmWindows + " x " + window + " warm-up steps");
            assertEquals(0, after - before, "bytes allocated by " + measured + " warm decode steps of batch 2 (caller + workers)");
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
