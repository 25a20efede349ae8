package dev.tandem.bench.loadgen;

import java.util.SplittableRandom;

/**
 * Request arrival times: a Poisson process at {@code rate} requests per second (exponential gaps with mean
 * 1 / rate), or all at once when the rate is infinite. Seeded.
 */
final class Arrivals {
    private final double rate;
    private final SplittableRandom rng;
    private double t;
    private boolean started;

    Arrivals(double rate, SplittableRandom rng) {
        if (!(rate > 0)) {
            throw new IllegalArgumentException("--request-rate must be positive (or inf), got " + rate);
        }
        this.rate = rate;
        this.rng = rng;
    }

    /**
     * Seconds from the start at which the next request arrives: the first at 0, then non-decreasing
     * (0 for every request when the rate is infinite).
     */
    double next() {
        if (!started || Double.isInfinite(rate)) {
            started = true;
            return t;
        }
        t += -Math.log(1 - rng.nextDouble()) / rate; // 1 - u ∈ (0, 1]: never log(0)
        return t;
    }
}
