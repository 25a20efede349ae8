package dev.tandem.model;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Repetition, presence and frequency penalties over the accepted-token window. */
class SamplerPenaltyTest {

    private static SamplingParams penalties(float rep, float presence, float frequency, int lastN) {
        return new SamplingParams(1f, 0, 1f, 0f, rep, presence, frequency, lastN, 1L);
    }

    private static float[] penalized(Sampler s, float[] logits) {
        float[] buf = logits.clone();
        s.applyPenalties(buf, buf.length);
        return buf;
    }

    @Test
    void formulasOverTheWholeContext() {
        // history 0, 1, 0, 2: counts {2, 1, 1, 0}; r = 2, presence 0.5, frequency 0.25
        Sampler s = new Sampler(penalties(2f, 0.5f, 0.25f, -1), 4);
        for (int t : new int[]{0, 1, 0, 2}) {
            s.accept(t);
        }
        float[] out = penalized(s, new float[]{2f, -1f, 0.5f, 3f});
        // 0:  2 / 2 − (2·0.25 + 0.5) = 0;   1: −1·2 − (0.25 + 0.5) = −2.75;
        // 2:  0.5 / 2 − 0.75 = −0.5;        3: never seen, unchanged
        assertArrayEquals(new float[]{0f, -2.75f, -0.5f, 3f}, out);
    }

    @Test
    void zeroLogitIsMultipliedNotDivided() {
        Sampler s = new Sampler(penalties(1.5f, 0f, 0f, 8), 2);
        s.accept(0);
        s.accept(1);
        assertArrayEquals(new float[]{0f, -3f}, penalized(s, new float[]{0f, -2f}));
    }

    @Test
    void onlyTheLastNTokensCount() {
        // window 2 over history 0, 1, 0, 2 → {0, 2}, each once
        Sampler s = new Sampler(penalties(2f, 0.5f, 0.25f, 2), 4);
        for (int t : new int[]{0, 1, 0, 2}) {
            s.accept(t);
        }
        // 0: 2 / 2 − 0.75 = 0.25;  1: out of the window, unchanged;  2: 0.5 / 2 − 0.75 = −0.5
        assertArrayEquals(new float[]{0.25f, -1f, -0.5f, 3f}, penalized(s, new float[]{2f, -1f, 0.5f, 3f}));
    }

    @Test
    void negativePresenceAndFrequencyEncourage() {
        Sampler s = new Sampler(penalties(1f, -1f, -0.5f, -1), 3);
        s.accept(2);
        s.accept(2);
        // 2: 1 − (2·(−0.5) + (−1)) = 3
        assertArrayEquals(new float[]{1f, 1f, 3f}, penalized(s, new float[]{1f, 1f, 1f}));
    }

    @Test
    void offWhenWindowIsZeroOrPenaltiesAreNeutral() {
        float[] logits = {2f, -1f, 0.5f};
        for (SamplingParams p : new SamplingParams[]{penalties(2f, 1f, 1f, 0), penalties(1f, 0f, 0f, -1)}) {
            Sampler s = new Sampler(p, 3);
            s.accept(0);
            s.accept(1);
            assertArrayEquals(logits, penalized(s, logits), p::toString);
        }
    }

    @Test
    void windowMatchesABruteForceRecount() {
        SplittableRandom r = new SplittableRandom(11);
        int vocab = 40;
        for (int lastN : new int[]{1, 3, 7, 64, -1}) {
            Sampler s = new Sampler(penalties(1.25f, 0.5f, 0.125f, lastN), vocab);
            List<Integer> history = new ArrayList<>();
            for (int step = 0; step < 400; step++) {
                int t = r.nextInt(8) == 0 ? r.nextInt(vocab) : r.nextInt(5); // repeats, and rarer tokens
                s.accept(t);
                history.add(t);
                if (step % 17 != 0) {
                    continue;
                }
                float[] logits = new float[vocab];
                for (int i = 0; i < vocab; i++) {
                    logits[i] = (i % 7 - 3) * 0.75f;
                }
                int from = lastN < 0 ? 0 : Math.max(0, history.size() - lastN);
                int[] count = new int[vocab];
                for (int h = from; h < history.size(); h++) {
                    count[history.get(h)]++;
                }
                float[] want = logits.clone();
                for (int i = 0; i < vocab; i++) {
                    if (count[i] > 0) {
                        float x = want[i] > 0 ? want[i] / 1.25f : want[i] * 1.25f;
                        want[i] = x - (count[i] * 0.125f + 0.5f);
                    }
                }
                float[] got = penalized(s, logits);
                final int at = step;
                assertArrayEquals(want, got, () -> "lastN " + lastN + " after " + (at + 1) + " tokens, window "
                        + history.subList(from, history.size()));
            }
        }
    }

    @Test
    void penaltiesChangeWhatGreedyPicks() {
        SamplingParams p = new SamplingParams(0f, 0, 1f, 0f, 1.1f, 0f, 0f, 64, 0L);
        Sampler s = new Sampler(p, 2);
        float[] logits = {5f, 4.9f};
        assertEquals(0, s.sample(logits, 0, 2));
        s.accept(0); // 5 / 1.1 = 4.545… < 4.9
        assertEquals(1, s.sample(logits, 0, 2));
    }

    @Test
    void promptTokensAcceptedBeforeGenerationArePenalized() {
        SamplingParams p = new SamplingParams(1f, 0, 1f, 0f, 1f, 2f, 0f, -1, 9L);
        Sampler s = new Sampler(p, 3);
        s.accept(0); // a prompt token
        float[] logits = {10f, 9f, 0f};
        // token 0 drops to 8 < 9: token 1 is now the favourite
        int[] h = new int[3];
        for (int i = 0; i < 4000; i++) {
            h[s.sample(logits, 0, 3)]++;
        }
        double p1 = 1 / (1 + Math.exp(-1) + Math.exp(-9)); // softmax of {8, 9, 0} at token 1
        double sigma = Math.sqrt(4000 * p1 * (1 - p1));
        assertEquals(4000 * p1, h[1], 5 * sigma, Arrays.toString(h));
    }

    @Test
    void penalizedInfinityStaysFinite() {
        Sampler s = new Sampler(penalties(0.5f, 0f, 0f, 4), 2); // r < 1 raises a positive logit
        s.accept(0);
        float[] out = penalized(s, new float[]{Float.MAX_VALUE, 1f});
        assertEquals(Float.MAX_VALUE, out[0]);
    }
}
