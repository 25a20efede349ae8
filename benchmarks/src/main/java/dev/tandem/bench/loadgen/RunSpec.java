package dev.tandem.bench.loadgen;

/**
 * What one loadgen run does, parsed and checked from the command line.
 *
 * @param requestRate     Poisson arrivals per second; infinity: all at once
 * @param maxConcurrency  requests in flight at most; 0: no cap
 * @param numPrompts      requests to send at most; -1: no count bound (then {@code durationSeconds} bounds the run)
 * @param durationSeconds stop sending after this long; infinity: no time bound
 * @param warmup          requests sent (and awaited) before the measured run, excluded from the results
 * @param timeoutSeconds  one request's bound, send to end of stream
 */
record RunSpec(String endpoint, Workload workload, double requestRate, int maxConcurrency, int numPrompts,
               double durationSeconds, int warmup, long seed, double timeoutSeconds) {
    RunSpec {
        if (!(requestRate > 0)) {
            throw new IllegalArgumentException("--request-rate must be positive or inf, got " + requestRate);
        }
        if (maxConcurrency < 0 || warmup < 0) {
            throw new IllegalArgumentException("--max-concurrency and --warmup must not be negative");
        }
        if (numPrompts == 0 || numPrompts < -1) {
            throw new IllegalArgumentException("--num-prompts must be at least 1, got " + numPrompts);
        }
        if (!(durationSeconds > 0)) {
            throw new IllegalArgumentException("--duration must be positive, got " + durationSeconds);
        }
        if (!(timeoutSeconds > 0)) {
            throw new IllegalArgumentException("--timeout must be positive, got " + timeoutSeconds);
        }
        if (numPrompts < 0 && Double.isInfinite(durationSeconds)) {
            throw new IllegalArgumentException("the run needs a bound: --num-prompts or --duration");
        }
        if (numPrompts < 0 && Double.isInfinite(requestRate) && maxConcurrency == 0) {
            throw new IllegalArgumentException("--request-rate inf with only --duration would send without end; "
                    + "add --max-concurrency or --num-prompts");
        }
    }
}
