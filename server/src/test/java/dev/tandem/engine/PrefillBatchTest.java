package dev.tandem.engine;

import dev.tandem.kernels.Parallel;
import dev.tandem.model.Forward;
import dev.tandem.model.KvCache;
import dev.tandem.model.Sequence;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code Forward.prefillBatch} (several prompts in one prefill step, as the split engine's prefill
 * pool runs them) gives each prompt bitwise the logits that {@code Forward.prefill} gives it alone,
 * and leaves the same K/V behind (the next decode step's logits agree too).
 */
class PrefillBatchTest {

    @Test
    void aBatchOfPromptsEqualsEachPromptAlone() {
        try (EngineFixture fx = new EngineFixture("llama31-q8_0.gguf"); Parallel pool = new Parallel(2, "pb")) {
            var c = fx.model.config();
            int vocab = c.vocab();
            int[][] prompts = {fx.prompt(9, 1), fx.prompt(3, 2), fx.prompt(20, 3)};
            int[] from = {4, 0, 13};      // the first two (and the third's first 13) already prefilled
            int[] len = {5, 3, 7};        // then one batch of 15 rows completes all three
            boolean[] want = {true, true, true};
            KvCache kvA = KvCache.forPositions(c, 256, 16), kvB = KvCache.forPositions(c, 256, 16);
            Forward fa = new Forward(fx.model, kvA, pool, 16), fb = new Forward(fx.model, kvB, pool, 16);
            Sequence[] a = new Sequence[3], b = new Sequence[3];
            float[] alone = new float[3 * vocab], batched = new float[3 * vocab], row = new float[vocab];
            for (int i = 0; i < 3; i++) {
                a[i] = new Sequence(64, 16);
                b[i] = new Sequence(64, 16);
                kvA.reserve(a[i], 40);
                kvB.reserve(b[i], 40);
                fa.prefill(a[i], prompts[i], 0, prompts[i].length, row, false);
                System.arraycopy(row, 0, alone, i * vocab, vocab);
                if (from[i] > 0) {
                    fb.prefill(b[i], prompts[i], 0, from[i], null, false);
                }
            }
            fb.prefillBatch(b, prompts, from, len, 3, want, batched);
            for (int i = 0; i < 3; i++) {
                assertEquals(prompts[i].length, b[i].length(), "positions of prompt " + i);
                assertArrayEquals(Arrays.copyOfRange(alone, i * vocab, (i + 1) * vocab),
                        Arrays.copyOfRange(batched, i * vocab, (i + 1) * vocab), "last-position logits of prompt " + i);
            }
            int[] next = {7, 8, 9};
            float[] da = new float[3 * vocab], db = new float[3 * vocab];
            fa.decode(a, next, 3, da);
            fb.decode(b, next, 3, db);
            assertArrayEquals(da, db, "a decode step after the prompts (the K/V they left)");
        }
    }
}
