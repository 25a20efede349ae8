package dev.tandem.bench.loadgen;

import java.util.Arrays;

/**
 * Summary statistics of a sample, computed as numpy computes them (so numbers compare with
 * {@code vllm bench serve}): percentiles by linear interpolation between closest ranks
 * ({@code np.percentile}'s default), standard deviation over n (population). An empty sample gives 0 everywhere.
 */
record Distribution(int count, double mean, double median, double std, double p90, double p99, double max) {

    static Distribution of(double[] sample) {
        int n = sample.length;
        if (n == 0) {
            return new Distribution(0, 0, 0, 0, 0, 0, 0);
        }
        double[] s = sample.clone();
        Arrays.sort(s);
        double sum = 0;
        for (double v : s) {
            sum += v;
        }
        double mean = sum / n;
        double sq = 0;
        for (double v : s) {
            sq += (v - mean) * (v - mean);
        }
        return new Distribution(n, mean, percentile(s, 50), Math.sqrt(sq / n), percentile(s, 90), percentile(s, 99), s[n - 1]);
    }

    /** The {@code p}-th percentile of an ascending, non-empty array: rank p/100 · (n − 1), interpolated linearly. */
    static double percentile(double[] sorted, double p) {
        double rank = p / 100 * (sorted.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(lo + 1, sorted.length - 1);
        double frac = rank - lo;
        return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
    }
}
