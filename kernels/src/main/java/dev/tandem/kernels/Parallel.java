package dev.tandem.kernels;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed set of threads and a static row partitioner: {@code [0, n)} is cut into one contiguous
 * range per thread, each a multiple of {@code grain}. Partitioning never changes what an output
 * element is, only who computes it, so results are the same at any thread count.
 */
public final class Parallel implements AutoCloseable {
    /** A task over the half-open range {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int start, int end);
    }

    private final int threads;
    private final ExecutorService pool;
    private final Future<?>[] pending;

    public Parallel(int threads, String name) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, not " + threads);
        }
        this.threads = threads;
        this.pending = new Future<?>[threads];
        AtomicInteger n = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.pool = threads > 1 ? Executors.newFixedThreadPool(threads - 1, factory) : null;
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code task} over {@code [0, n)} split across the threads; the caller takes the first part. */
    public void forRange(int n, int grain, RangeTask task) {
        int units = (n + grain - 1) / grain;
        int parts = Math.min(threads, units);
        if (parts <= 1) {
            task.run(0, n);
            return;
        }
        synchronized (this) {
            for (int p = 1; p < parts; p++) {
                int start = Math.min(n, (int) ((long) units * p / parts) * grain);
                int end = Math.min(n, (int) ((long) units * (p + 1) / parts) * grain);
                pending[p] = pool.submit(() -> task.run(start, end));
            }
            task.run(0, Math.min(n, (int) ((long) units / parts) * grain));
            for (int p = 1; p < parts; p++) {
                try {
                    pending[p].get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for workers", e);
                } catch (java.util.concurrent.ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException re) {
                        throw re;
                    }
                    throw new IllegalStateException(cause);
                } finally {
                    pending[p] = null;
                }
            }
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
