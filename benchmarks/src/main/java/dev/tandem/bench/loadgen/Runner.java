package dev.tandem.bench.loadgen;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Sends the workload: one dispatching thread sleeps until each request's arrival time, waits for a
 * concurrency permit when there is a cap, and hands the request to the asynchronous client. Lengths,
 * prompts and arrivals come from three generators split from the seed, so a change in one leaves the others as
 * they were. Stops sending at {@code --num-prompts} or {@code --duration}; then waits for what is in flight,
 * each request bounded by its timeout — the run never hangs.
 */
final class Runner {
    /** The measured requests, the run's duration (first send → last end), and the most requests in flight at once. */
    record Outcome(List<RequestResult> results, double durationSeconds, int maxConcurrent) {}

    private final StreamClient client;
    private final RequestBodies bodies;
    private final Vocabulary vocabulary;
    private final RunSpec spec;

    Runner(StreamClient client, RequestBodies bodies, Vocabulary vocabulary, RunSpec spec) {
        this.client = client;
        this.bodies = bodies;
        this.vocabulary = vocabulary;
        this.spec = spec;
    }

    Outcome run(Progress.Factory progressFactory) throws InterruptedException {
        SplittableRandom root = new SplittableRandom(spec.seed());
        SplittableRandom arrivalRng = root.split();
        SplittableRandom lengthRng = root.split();
        SplittableRandom tokenRng = root.split();
        SplittableRandom warmupRng = root.split();
        if (spec.warmup() > 0) {
            warmup(warmupRng);
        }
        Arrivals arrivals = new Arrivals(spec.requestRate(), arrivalRng);
        Semaphore permits = spec.maxConcurrency() > 0 ? new Semaphore(spec.maxConcurrency()) : null;
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxRunning = new AtomicInteger();
        AtomicLong lastEnd = new AtomicLong();
        List<Pending> inFlight = new ArrayList<>();
        long t0 = System.nanoTime();
        long stopSending = Double.isInfinite(spec.durationSeconds()) ? Long.MAX_VALUE : t0 + (long) (spec.durationSeconds() * 1e9);
        try (Progress progress = progressFactory.make(spec.numPrompts(), spec.durationSeconds(), running::get)) {
            for (int i = 0; spec.numPrompts() < 0 || i < spec.numPrompts(); i++) {
                double at = arrivals.next();
                if (at > spec.durationSeconds()) {
                    break;
                }
                Workload.Draw d = spec.workload().draw(lengthRng);
                PlannedRequest p = new PlannedRequest(i, d.requestClass(), d.inputLen(), d.outputLen(), at,
                        vocabulary.prompt(d.inputLen(), tokenRng));
                byte[] body = bodies.body(p);
                sleepUntil(t0 + (long) (at * 1e9));
                if (permits != null && !acquire(permits, stopSending)) {
                    break;
                }
                if (System.nanoTime() > stopSending) {
                    if (permits != null) {
                        permits.release();
                    }
                    break;
                }
                maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                CompletableFuture<RequestResult> f = client.send(p, spec.endpoint(), body);
                inFlight.add(new Pending(p, f.whenComplete((r, t) -> {
                    lastEnd.accumulateAndGet(System.nanoTime(), Math::max);
                    running.decrementAndGet();
                    if (permits != null) {
                        permits.release();
                    }
                    progress.finished(r);
                })));
            }
            List<RequestResult> results = await(inFlight);
            long end = Math.max(lastEnd.get(), t0 + 1);
            return new Outcome(results, (end - t0) / 1e9, maxRunning.get());
        }
    }

    /** Sends {@code --warmup} requests drawn from their own generator, and waits for them. */
    private void warmup(SplittableRandom rng) throws InterruptedException {
        int cap = spec.maxConcurrency() > 0 ? spec.maxConcurrency() : spec.warmup();
        Semaphore permits = new Semaphore(cap);
        List<Pending> all = new ArrayList<>();
        for (int i = 0; i < spec.warmup(); i++) {
            Workload.Draw d = spec.workload().draw(rng);
            PlannedRequest p = new PlannedRequest(-1 - i, d.requestClass(), d.inputLen(), d.outputLen(), 0,
                    vocabulary.prompt(d.inputLen(), rng));
            permits.acquire();
            all.add(new Pending(p, client.send(p, spec.endpoint(), bodies.body(p)).whenComplete((r, t) -> permits.release())));
        }
        await(all);
    }

    private record Pending(PlannedRequest planned, CompletableFuture<RequestResult> result) {}

    /** Every request's result; each is bounded by the client's timeout, and the wait by that plus a minute. */
    private List<RequestResult> await(List<Pending> all) throws InterruptedException {
        try {
            CompletableFuture.allOf(all.stream().map(Pending::result).toArray(CompletableFuture[]::new))
                    .get((long) (spec.timeoutSeconds() * 1e3) + 60_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // the client completes every request, a failure included; a stuck one is reported below
        }
        List<RequestResult> out = new ArrayList<>(all.size());
        for (Pending p : all) {
            out.add(p.result().getNow(RequestResult.failed(p.planned(), "unfinished", "no result when the run's deadline passed")));
        }
        return out;
    }

    private static boolean acquire(Semaphore permits, long deadline) throws InterruptedException {
        if (deadline == Long.MAX_VALUE) {
            permits.acquire();
            return true;
        }
        return permits.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        for (long left; (left = nanos - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }
}
