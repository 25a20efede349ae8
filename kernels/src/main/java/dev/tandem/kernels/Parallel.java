package dev.tandem.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed group of threads and a static row partitioner: {@code [0, n)} is cut into one contiguous
 * range per thread, each a multiple of {@code grain}; the calling thread takes the first range.
 * Partitioning never changes what an output element is, only who computes it, so results are the
 * same at any thread count.
 *
 * <p>A call allocates nothing and takes no lock: the job is published through fields and a
 * per-worker job counter that only the workers taking part see move; they spin briefly, then park,
 * between jobs. Pass a preallocated {@link RangeTask}
 * (not a capturing lambda) where allocation matters. One caller at a time.
 */
public final class Parallel implements AutoCloseable {
    /** A task over the half-open range {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int start, int end);
    }

    private static final int SPINS = 2000;

    private final int threads;
    private final Thread[] workers;       // [threads - 1]
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger callers = new AtomicInteger();
    private final AtomicIntegerArray go;  // [threads - 1] job counter per worker
    private int jobs;
    private volatile boolean closed;
    private volatile Throwable failure;
    // The current job, published to each taking part by its go counter.
    private RangeTask task;
    private int n;
    private int grain;
    private int parts;
    private Thread caller;

    public Parallel(int threads, String name) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, not " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.go = new AtomicIntegerArray(Math.max(1, threads - 1));
        for (int w = 1; w < threads; w++) {
            final int index = w;
            Thread t = new Thread(() -> workLoop(index), name + "-" + w);
            t.setDaemon(true);
            workers[w - 1] = t;
            t.start();
        }
    }

    public int threads() {
        return threads;
    }

    /** The worker threads (not the caller), e.g. to measure what they allocate. */
    public Thread[] workers() {
        return workers.clone();
    }

    /** Runs {@code task} over {@code [0, n)} split across the threads; returns when all parts are done. */
    public void forRange(int n, int grain, RangeTask task) {
        int units = (n + grain - 1) / grain;
        int parts = Math.min(threads, units);
        if (parts <= 1) {
            task.run(0, n);
            return;
        }
        if (callers.getAndIncrement() != 0) {
            callers.decrementAndGet();
            throw new IllegalStateException("Parallel.forRange called from two threads at once");
        }
        try {
            this.task = task;
            this.n = n;
            this.grain = grain;
            this.parts = parts;
            this.caller = Thread.currentThread();
            pending.set(parts - 1);
            jobs++;
            for (int w = 1; w < parts; w++) {
                go.set(w - 1, jobs); // publishes the job to worker w
                LockSupport.unpark(workers[w - 1]);
            }
            runPart(0);
            for (int spins = 0; pending.get() != 0; spins++) {
                if (spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            this.task = null;
            Throwable f = failure;
            if (f != null) {
                failure = null;
                if (f instanceof RuntimeException re) {
                    throw re;
                }
                if (f instanceof Error e) {
                    throw e;
                }
                throw new IllegalStateException(f);
            }
        } finally {
            callers.decrementAndGet();
        }
    }

    private void runPart(int p) {
        int units = (n + grain - 1) / grain;
        int start = Math.min(n, (int) ((long) units * p / parts) * grain);
        int end = Math.min(n, (int) ((long) units * (p + 1) / parts) * grain);
        if (start < end) {
            task.run(start, end);
        }
    }

    private void workLoop(int index) {
        int seen = 0;
        int spins = 0;
        while (!closed) {
            int e = go.get(index - 1);
            if (e == seen) {
                if (++spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
                continue;
            }
            seen = e;
            spins = 0;
            try {
                runPart(index);
            } catch (Throwable t) {
                failure = t;
            }
            if (pending.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
    }
}
