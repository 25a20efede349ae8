package dev.tandem.bench.loadgen;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArrivalsTest {
    private static double[] times(double rate, long seed, int n) {
        Arrivals a = new Arrivals(rate, new SplittableRandom(seed));
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            t[i] = a.next();
        }
        return t;
    }

    @Test
    void poissonMeanGapIsOneOverTheRate() {
        int n = 40_000;
        double rate = 4;
        for (long seed : new long[] {1, 2, 3}) {
            double[] t = times(rate, seed, n + 1);
            assertEquals(0.0, t[0], "the first request goes at once");
            double meanGap = t[n] / n;
            // exponential gaps: sd of the mean = (1/rate)/√n; 5 sd bounds a false failure below 1e-6
            double bound = 5 * (1 / rate) / Math.sqrt(n);
            assertTrue(Math.abs(meanGap - 1 / rate) < bound, "seed " + seed + ": mean gap " + meanGap + ", want 0.25 ± " + bound);
            int shortGaps = 0;
            for (int i = 1; i <= n; i++) {
                assertTrue(t[i] >= t[i - 1], "seed " + seed + ": arrival " + i + " before its predecessor");
                if (t[i] - t[i - 1] < 1 / rate) {
                    shortGaps++;
                }
            }
            // P(gap < mean) = 1 − 1/e for an exponential; binomial sd = √(n p (1−p))
            double p = 1 - Math.exp(-1);
            assertTrue(Math.abs(shortGaps - n * p) < 5 * Math.sqrt(n * p * (1 - p)),
                    "seed " + seed + ": " + shortGaps + " of " + n + " gaps under the mean, want ≈ " + n * p);
        }
    }

    @Test
    void sameSeedSameArrivals() {
        assertArrayEquals(times(2, 42, 100), times(2, 42, 100));
    }

    @Test
    void infiniteRateSendsAllAtOnce() {
        assertArrayEquals(new double[5], times(Double.POSITIVE_INFINITY, 1, 5));
    }
}
