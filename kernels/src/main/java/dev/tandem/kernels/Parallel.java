package dev.tandem.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed group of threads and a static row partitioner: {@code [0, n)} is cut into a fixed list
 * of contiguous parts, each a multiple of {@code grain} (up to {@link #PARTS_PER_THREAD} per
 * thread). Which thread runs which part is decided at run time — each thread, the caller
 * included, claims the next unclaimed part until none is left — but the parts themselves depend
 * only on {@code n}, {@code grain} and the thread count, and partitioning never changes what an
 * output element is, only who computes it: results are the same at any thread count.
 *
 * <p>Claiming matters on a busy machine: a worker that the OS has descheduled cannot hold the
 * caller up, because the caller takes the parts the worker has not claimed yet. (With one fixed
 * part per thread, a 2-thread decode step on a loaded 2-core machine waited ~75 µs per parallel
 * section for the worker to be scheduled — slower than one thread.)
 *
 * <p>{@link Schedule#FIXED} (the decode worker's, on pinned cores) trades that for locality: one
 * part per thread, thread {@code i} always running part {@code i}, so each thread streams the same
 * slice of every weight matrix's rows every step and finds it in its own caches where it fits; the
 * threads meet at the end of each section (a spin barrier: workers spin longer before parking).
 *
 * <p>A call allocates nothing and takes no lock: the job is published through fields, a claim
 * word {@code (job << 32) | (parts << 16) | nextPart} and a per-worker job counter; workers spin briefly, then
 * park, between jobs. Pass a preallocated {@link RangeTask} (not a capturing lambda) where
 * allocation matters. One caller at a time.
 */
public final class Parallel implements AutoCloseable {
    /** A task over the half-open range {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int start, int end);
    }

    /**
     * Parts per thread. More parts let a late worker still find work; fewer leave less idle time at
     * the end of a section (the last part runs alone). A 110M-model decode step on 2 threads
     * (DecodeStepBenchmark, loaded machine): 1 part 14.4–25 ms, 2 parts 12.0–12.2 ms, 4 parts 13.6–14.8 ms.
     */
    static final int PARTS_PER_THREAD = 2;
    private static final int SPINS = 2000;
    private static final int FIXED_SPINS = 20_000; // tens of µs to ~1 ms: covers the gap between two sections of a decode step

    /** How parts are given to threads. */
    public enum Schedule {
        /** Parts claimed at run time, {@link #PARTS_PER_THREAD} per thread: a descheduled thread cannot hold the others up. */
        CLAIMED,
        /** One part per thread, always the same thread: each thread's slice of the work is the same every call. */
        FIXED
    }

    private final int threads;
    private final Schedule schedule;
    private final int spinLimit;
    private final Thread[] workers;       // [threads - 1]
    private final AtomicInteger callers = new AtomicInteger();
    private final AtomicIntegerArray go;  // [threads - 1] job counter per worker
    // (job << 32) | (parts << 16) | next unclaimed part. The part count lives in the word, not only in
    // the field: a late worker of the previous job could otherwise read the next job's part count
    // before that job is published and claim a part of it early.
    private final AtomicLong claim = new AtomicLong();
    private final AtomicInteger finished = new AtomicInteger(); // parts of the current job done
    private int jobs;
    private volatile boolean closed;
    private volatile Throwable failure;
    // The current job, published to the workers by the claim word (written before it).
    private RangeTask task;
    private int n;
    private int grain;
    private int parts;
    private volatile Thread caller;

    public Parallel(int threads, String name) {
        this(threads, name, Schedule.CLAIMED);
    }

    public Parallel(int threads, String name, Schedule schedule) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, not " + threads);
        }
        this.threads = threads;
        this.schedule = schedule;
        this.spinLimit = schedule == Schedule.FIXED ? FIXED_SPINS : SPINS;
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
        int perThread = schedule == Schedule.FIXED ? 1 : PARTS_PER_THREAD;
        int parts = Math.min(Math.min(perThread * threads, 0xffff), units);
        if (threads == 1 || parts <= 1) {
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
            finished.set(0);
            int job = ++jobs;
            claim.set((long) job << 32 | (long) parts << 16);   // publishes the fields above
            int helpers = Math.min(threads - 1, parts - 1);
            for (int w = 1; w <= helpers; w++) {
                go.set(w - 1, job);
                LockSupport.unpark(workers[w - 1]);
            }
            if (schedule == Schedule.FIXED) {
                runFixed(job, 0);
            } else {
                claimParts(job);
            }
            for (int spins = 0; finished.get() != parts; spins++) {
                if (spins < spinLimit) {
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

    /** Claims and runs parts of job {@code job} until none is left (or the job has moved on). */
    private void claimParts(int job) {
        while (true) {
            long c = claim.get();
            int part = (int) c & 0xffff, count = (int) (c >>> 16) & 0xffff;
            if ((int) (c >>> 32) != job || part >= count) {
                return;
            }
            if (!claim.compareAndSet(c, c + 1)) {
                continue;
            }
            runAndCount(part, count);
        }
    }

    /** {@link Schedule#FIXED}: thread {@code index} runs part {@code index} of job {@code job}, if the job has one. */
    private void runFixed(int job, int index) {
        long c = claim.get();
        int count = (int) (c >>> 16) & 0xffff;
        if ((int) (c >>> 32) != job || index >= count) {
            return;
        }
        runAndCount(index, count);
    }

    /** Runs part {@code p} (a failure is kept for the caller), counts it done, and wakes the caller after the last of {@code count}. */
    private void runAndCount(int p, int count) {
        try {
            runPart(p);
        } catch (Throwable t) {
            failure = t;
        }
        if (finished.incrementAndGet() == count) {
            Thread waiting = caller;
            if (waiting != Thread.currentThread()) {
                LockSupport.unpark(waiting);
            }
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
                if (++spins < spinLimit) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
                continue;
            }
            seen = e;
            spins = 0;
            if (schedule == Schedule.FIXED) {
                runFixed(e, index);
            } else {
                claimParts(e);
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
