package dev.tandem.model;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Sampling behaviour: greedy, the distribution drawn, each filter's support, seeds, odd logits. */
class SamplerTest {

    private static final int DRAWS = 20_000;
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    // Six logits with a tie (ids 1 and 5): ranking 4, 1, 5, 0, 2, 3.
    private static final float[] SIX = {1f, 2f, 0.5f, -1f, 3f, 2f};

    // Logits whose temperature-1 probabilities are exactly {0.5, 0.25, 0.15, 0.07, 0.03}.
    private static final float[] FIVE = logs(0.5, 0.25, 0.15, 0.07, 0.03);

    private static float[] logs(double... p) {
        float[] l = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            l[i] = (float) Math.log(p[i]);
        }
        return l;
    }

    private static SamplingParams params(float t, int k, float p, float minP) {
        return new SamplingParams(t, k, p, minP, 1f, 0f, 0f, 64, 12345L);
    }

    private static int[] histogram(Sampler s, float[] logits, int draws) {
        int[] c = new int[logits.length];
        for (int i = 0; i < draws; i++) {
            c[s.sample(logits, 0, logits.length)]++;
        }
        return c;
    }

    /** softmax(logits / t) restricted to {@code keep}, in double with Math.exp: the reference. */
    private static double[] expected(float[] logits, double t, Set<Integer> keep) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i : keep) {
            max = Math.max(max, logits[i]);
        }
        double[] p = new double[logits.length];
        double z = 0;
        for (int i : keep) {
            p[i] = Math.exp((logits[i] - max) / t);
            z += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= z;
        }
        return p;
    }

    private static Set<Integer> all(int n) {
        Set<Integer> s = new TreeSet<>();
        for (int i = 0; i < n; i++) {
            s.add(i);
        }
        return s;
    }

    /** Each count within 5 standard deviations of its binomial expectation; impossible tokens never drawn. */
    private static void assertDrawnLike(int[] counts, double[] p, int draws, String what) {
        for (int i = 0; i < p.length; i++) {
            double e = draws * p[i];
            double sigma = Math.sqrt(draws * p[i] * (1 - p[i]));
            int c = counts[i];
            boolean ok = p[i] == 0 ? c == 0 : Math.abs(c - e) <= 5 * sigma;
            if (!ok) {
                fail(what + ": token " + i + " drawn " + c + " times in " + draws + ", expected " + e
                        + " ± 5·" + sigma + "; counts " + Arrays.toString(counts) + ", p " + Arrays.toString(p));
            }
        }
    }

    private static Set<Integer> support(int[] counts) {
        Set<Integer> s = new TreeSet<>();
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] > 0) {
                s.add(i);
            }
        }
        return s;
    }

    // ---- greedy ----

    @Test
    void greedyPicksTheArgmaxAndTheLowestIdOnTies() {
        Sampler s = new Sampler(SamplingParams.greedy(), 8);
        assertEquals(4, s.sample(SIX, 0, 6));
        assertEquals(1, s.sample(new float[]{0f, 7f, 7f, 7f}, 0, 4));
        assertEquals(0, s.sample(new float[]{-3f, -3f}, 0, 2));
        assertEquals(2, s.sample(new float[]{-5f, -4f, -1e-30f, -1e-29f}, 0, 4));
    }

    @Test
    void greedyOnLongRowsFindsTheFirstMaximumPastTheVectorBody() {
        int n = 1000;
        float[] row = new float[n];
        for (int i = 0; i < n; i++) {
            row[i] = (i * 37) % 101 / 10f; // max 10.0 first at i = 30 (30·37 = 1110 = 10·101 + 100)
        }
        Sampler s = new Sampler(SamplingParams.greedy(), n);
        assertEquals(30, s.sample(row, 0, n));
        row[997] = 11f;
        assertEquals(997, s.sample(row, 0, n));
    }

    @Test
    void topKOneIsGreedy() {
        Sampler s = new Sampler(params(1.3f, 1, 1f, 0f), 6);
        for (int i = 0; i < 200; i++) {
            assertEquals(4, s.sample(SIX, 0, 6));
        }
        float[] tie = {0f, 5f, 5f};
        Sampler t = new Sampler(params(1f, 1, 1f, 0f), 3);
        for (int i = 0; i < 200; i++) {
            assertEquals(1, t.sample(tie, 0, 3), "top-k 1 keeps the lowest id among ties");
        }
    }

    // ---- the distribution drawn ----

    @Test
    void drawsFollowSoftmaxOfLogitsOverTemperature() {
        for (float t : new float[]{0.7f, 1f, 2.5f}) {
            Sampler s = new Sampler(params(t, 0, 1f, 0f), 6);
            assertDrawnLike(histogram(s, SIX, DRAWS), expected(SIX, t, all(6)), DRAWS, "T=" + t);
        }
    }

    @Test
    void drawsFollowSoftmaxOnAVocabularyLongerThanABlock() {
        int n = 3000; // three blocks of weights: the draw crosses block boundaries
        float[] row = new float[n];
        for (int i = 0; i < n; i++) {
            row[i] = -3f;
        }
        row[10] = 4f;
        row[1500] = 4.5f;
        row[2999] = 3.5f;
        row[1023] = 3f;
        row[1024] = 3f;
        Sampler s = new Sampler(params(1f, 0, 1f, 0f), n);
        int[] c = histogram(s, row, DRAWS);
        assertDrawnLike(c, expected(row, 1, all(n)), DRAWS, "3000 tokens");
    }

    @Test
    void topKRestrictsTheSupportExactlyAndRenormalizes() {
        for (int k : new int[]{2, 3, 5}) {
            Sampler s = new Sampler(params(1.5f, k, 1f, 0f), 6);
            Set<Integer> keep = new TreeSet<>(Arrays.asList(4, 1, 5, 0, 2).subList(0, k));
            int[] c = histogram(s, SIX, DRAWS);
            assertEquals(keep, support(c), "top-k " + k + " on " + Arrays.toString(SIX));
            assertDrawnLike(c, expected(SIX, 1.5, keep), DRAWS, "top-k " + k);
        }
    }

    @Test
    void topPKeepsTheSmallestNucleus() {
        // cumulative: 0.5, 0.75, 0.90, 0.97, 1.0
        Object[][] cases = {{0.45f, Set.of(0)}, {0.7f, Set.of(0, 1)}, {0.8f, Set.of(0, 1, 2)},
                {0.95f, Set.of(0, 1, 2, 3)}, {0.99f, Set.of(0, 1, 2, 3, 4)}, {Float.MIN_VALUE, Set.of(0)}};
        for (Object[] c : cases) {
            float p = (float) c[0];
            @SuppressWarnings("unchecked") Set<Integer> keep = new TreeSet<>((Set<Integer>) c[1]);
            Sampler s = new Sampler(params(1f, 0, p, 0f), 5);
            int[] h = histogram(s, FIVE, DRAWS);
            assertEquals(keep, support(h), "top-p " + p + " on p = {0.5, 0.25, 0.15, 0.07, 0.03}");
            assertDrawnLike(h, expected(FIVE, 1, keep), DRAWS, "top-p " + p);
        }
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheBest() {
        // p / p_max: 1, 0.5, 0.3, 0.14, 0.06
        Object[][] cases = {{0.55f, Set.of(0)}, {0.2f, Set.of(0, 1, 2)}, {0.1f, Set.of(0, 1, 2, 3)},
                {0.01f, Set.of(0, 1, 2, 3, 4)}, {1f, Set.of(0)}};
        for (Object[] c : cases) {
            float minP = (float) c[0];
            @SuppressWarnings("unchecked") Set<Integer> keep = new TreeSet<>((Set<Integer>) c[1]);
            Sampler s = new Sampler(params(1f, 0, 1f, minP), 5);
            int[] h = histogram(s, FIVE, DRAWS);
            assertEquals(keep, support(h), "min-p " + minP);
            assertDrawnLike(h, expected(FIVE, 1, keep), DRAWS, "min-p " + minP);
        }
    }

    @Test
    void topPActsOnWhatTopKLeftRenormalized() {
        // top-k 2 leaves {0.5, 0.25} → {2/3, 1/3}: top-p 0.6 keeps only token 0 (without top-k it keeps 0 and 1).
        Sampler both = new Sampler(params(1f, 2, 0.6f, 0f), 5);
        assertEquals(Set.of(0), support(histogram(both, FIVE, 2000)));
        Sampler pOnly = new Sampler(params(1f, 0, 0.6f, 0f), 5);
        assertEquals(Set.of(0, 1), support(histogram(pOnly, FIVE, 2000)));
    }

    @Test
    void temperatureComesAfterTheFilters() {
        // At T = 5 the tempered distribution is nearly flat; the filters still see the T = 1 one.
        Sampler p = new Sampler(params(5f, 0, 0.7f, 0f), 5);
        int[] h = histogram(p, FIVE, DRAWS);
        assertEquals(Set.of(0, 1), support(h));
        assertDrawnLike(h, expected(FIVE, 5, Set.of(0, 1)), DRAWS, "top-p 0.7 then T=5");
        Sampler m = new Sampler(params(5f, 0, 1f, 0.2f), 5);
        h = histogram(m, FIVE, DRAWS);
        assertEquals(Set.of(0, 1, 2), support(h));
        assertDrawnLike(h, expected(FIVE, 5, Set.of(0, 1, 2)), DRAWS, "min-p 0.2 then T=5");
    }

    // ---- seeds ----

    @Test
    void sameSeedSameTokensDifferentSeedDifferentTokens() {
        int[] a = sequence(99L);
        assertArrayEquals(a, sequence(99L));
        assertFalse(Arrays.equals(a, sequence(100L)), "seeds 99 and 100 drew the same 300 tokens");
        assertFalse(Arrays.equals(a, sequence(-99L)), "seeds 99 and -99 drew the same 300 tokens");
    }

    private static int[] sequence(long seed) {
        Sampler s = new Sampler(new SamplingParams(0.9f, 0, 0.99f, 0.001f, 1f, 0f, 0f, 64, seed), 6);
        int[] out = new int[300];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.sample(SIX, 0, 6);
        }
        return out;
    }

    @Test
    void theStreamIsSplitMix64() {
        // First outputs of Vigna's splitmix64.c for this seed, as listed in rand_xoshiro's reference test.
        Sampler s = new Sampler(SamplingParams.defaults().withSeed(1477776061723855037L), 1);
        assertEquals(1985237415132408290L, s.nextLong());
        assertEquals(2979275885539914483L, s.nextLong());
        assertEquals(Long.parseUnsignedLong("13511426838097143398"), s.nextLong());
        assertEquals(8488337342461049707L, s.nextLong());
        assertEquals(Long.parseUnsignedLong("15141737807933549159"), s.nextLong());
    }

    // ---- odd logits and bounds ----

    private static final SamplingParams[] VARIETY = {
            SamplingParams.greedy(), params(1f, 0, 1f, 0f), params(0.3f, 2, 1f, 0f), params(1f, 0, 0.5f, 0f),
            params(2f, 0, 1f, 0.5f), params(0.8f, 40, 0.95f, 0.05f), params(1e-30f, 0, 1f, 0f),
            new SamplingParams(1f, 0, 1f, 0f, 1.3f, 0.5f, 0.5f, -1, 3L)};

    @Test
    void onlyTheFiniteTokenIsEverDrawn() {
        float[] row = {NEG_INF, NEG_INF, NEG_INF, -50f, NEG_INF, Float.NaN, NEG_INF, NEG_INF};
        for (SamplingParams p : VARIETY) {
            Sampler s = new Sampler(p, 8);
            for (int i = 0; i < 50; i++) {
                s.accept(i % 8);
                assertEquals(3, s.sample(row, 0, 8), p::toString);
            }
        }
    }

    @Test
    void nanIsTreatedAsMinusInfinity() {
        float[] row = {Float.NaN, 1f, Float.NaN, 0.5f};
        for (SamplingParams p : VARIETY) {
            Sampler s = new Sampler(p, 4);
            int[] h = histogram(s, row, 2000);
            assertEquals(0, h[0] + h[2], () -> p + " drew a NaN token: " + Arrays.toString(h));
        }
        assertEquals(0, new Sampler(params(1f, 0, 1f, 0f), 3).sample(new float[]{Float.NaN, Float.NaN, Float.NaN}, 0, 3),
                "no finite logit at all: token 0");
        assertEquals(0, new Sampler(params(1f, 0, 0.9f, 0f), 2).sample(new float[]{NEG_INF, Float.NaN}, 0, 2));
    }

    @Test
    void hugeLogitsStayFinite() {
        float[] row = {1e30f, -1e30f, 0f, 1e30f, -Float.MAX_VALUE, 1e29f};
        assertEquals(0, new Sampler(SamplingParams.greedy(), 6).sample(row, 0, 6));
        Sampler s = new Sampler(params(1f, 0, 1f, 0f), 6);
        int[] h = histogram(s, row, 4000);
        assertEquals(Set.of(0, 3), support(h), Arrays.toString(h));
        assertDrawnLike(h, new double[]{0.5, 0, 0, 0.5, 0, 0}, 4000, "two tied 1e30 logits");
        float[] inf = {1f, Float.POSITIVE_INFINITY, 2f, Float.POSITIVE_INFINITY};
        int[] g = histogram(new Sampler(params(0.5f, 0, 0.9f, 0f), 4), inf, 4000);
        assertDrawnLike(g, new double[]{0, 0.5, 0, 0.5}, 4000, "two +inf logits");
    }

    @Test
    void extremeTemperatures() {
        int[] cold = histogram(new Sampler(params(Float.MIN_VALUE, 0, 1f, 0f), 6), SIX, 500);
        assertEquals(Set.of(4), support(cold), "T = smallest float is argmax: " + Arrays.toString(cold));
        int[] hot = histogram(new Sampler(params(1e30f, 0, 1f, 0f), 6), SIX, 6000);
        assertDrawnLike(hot, new double[]{1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0}, 6000, "T = 1e30 is uniform");
    }

    @Test
    void neverReturnsATokenOutsideTheRow() {
        // vocabulary 10, row of 8 at offset 5 in a longer array whose other entries would win if read
        float[] buf = new float[20];
        Arrays.fill(buf, 1e30f);
        for (int i = 0; i < 8; i++) {
            buf[5 + i] = (float) Math.sin(i);
        }
        float[] before = buf.clone();
        for (SamplingParams p : VARIETY) {
            Sampler s = new Sampler(p, 10);
            for (int i = 0; i < 500; i++) {
                int t = s.sample(buf, 5, 8);
                assertTrue(t >= 0 && t < 8, () -> p + " returned " + t + " for a row of 8");
                s.accept(t);
            }
        }
        assertArrayEquals(before, buf, "sample must not modify the caller's logits");
    }

    @Test
    void randomOddRowsAlwaysGiveADrawableToken() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        float[] specials = {Float.NaN, NEG_INF, Float.POSITIVE_INFINITY, 1e30f, -1e30f, 0f, Float.MIN_VALUE};
        for (int row = 0; row < 300; row++) {
            int n = 1 + r.nextInt(100);
            float[] l = new float[n];
            for (int i = 0; i < n; i++) {
                l[i] = r.nextInt(3) == 0 ? specials[r.nextInt(specials.length)] : (float) r.nextGaussian() * 5;
            }
            boolean anyFinite = false;
            for (float x : l) {
                anyFinite |= x == x && x != NEG_INF;
            }
            SamplingParams p = VARIETY[row % VARIETY.length];
            int t = new Sampler(p, 100).sample(l, 0, n);
            float chosen = l[t];
            boolean ok = t >= 0 && t < n && (anyFinite ? chosen == chosen && chosen != NEG_INF : t == 0);
            assertTrue(ok, () -> p + " chose " + t + " (" + chosen + ") from " + Arrays.toString(l));
        }
    }

    @Test
    void badRowsAndTokensAreRefusedWithAReason() {
        Sampler s = new Sampler(SamplingParams.defaults(), 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.sample(new float[8], 0, 5));
        assertEquals("n must be in [1, 4], got 5", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[4], 1, 4));
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[4], -1, 2));
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[4], 0, 0));
        assertThrows(IllegalArgumentException.class, () -> s.accept(4));
        assertThrows(IllegalArgumentException.class, () -> s.accept(-1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(SamplingParams.defaults(), 0));
        assertNotEquals(-1, s.sample(new float[]{1, 2, 3, 4}, 0, 4));
    }
}
