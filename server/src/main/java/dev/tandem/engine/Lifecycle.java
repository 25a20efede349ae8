package dev.tandem.engine;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An engine's way from serving to stopped, shared by both engines: the admission gate that shutdown
 * closes, the grace deadline after which live requests are cancelled, and the count of accepted
 * requests not yet ended that {@link Engine#shutdown} waits on.
 */
final class Lifecycle {
    private final Object gate = new Object();       // guards shuttingDown / deadline against admission
    private volatile boolean shuttingDown;
    private volatile long deadlineNanos;            // valid once shuttingDown
    private final AtomicInteger outstanding = new AtomicInteger(); // accepted, not yet terminal
    private final Object allEnded = new Object();

    /**
     * Admits {@code count} requests: refuses when shutting down, else runs {@code check} (which may
     * throw its own rejection) and {@code enqueue} under the gate, so shutdown cannot slip between.
     */
    void admit(int count, EngineMetrics metrics, Runnable check, Runnable enqueue) {
        synchronized (gate) {
            if (shuttingDown) {
                throw reject(metrics, EngineException.Kind.SHUTTING_DOWN, "the server is shutting down");
            }
            check.run();
            outstanding.addAndGet(count);
            enqueue.run();
        }
    }

    /** A rejection, counted in {@code tandem_requests_total{state="rejected"}}. */
    static EngineException.Rejected reject(EngineMetrics metrics, EngineException.Kind kind, String message) {
        metrics.rejected.increment();
        return new EngineException.Rejected(kind, message);
    }

    /** Closes the gate; the earliest of all deadlines asked for wins. */
    void beginShutdown(long graceMillis) {
        long grace = Math.min(TimeUnit.MILLISECONDS.toNanos(Math.max(0, graceMillis)), Long.MAX_VALUE / 4);
        synchronized (gate) {
            long d = System.nanoTime() + grace;
            if (!shuttingDown || d - deadlineNanos < 0) {
                deadlineNanos = d;
            }
            shuttingDown = true;
        }
    }

    /** Returns when every accepted request has ended. */
    void awaitAllEnded() throws InterruptedException {
        synchronized (allEnded) {
            while (outstanding.get() > 0) {
                allEnded.wait();
            }
        }
    }

    /** One accepted request reached its terminal state. */
    void ended() {
        if (outstanding.decrementAndGet() == 0) {
            synchronized (allEnded) {
                allEnded.notifyAll();
            }
        }
    }

    boolean shuttingDown() {
        return shuttingDown;
    }

    /** Whether the shutdown grace has run out (everything still live is to be cancelled). */
    boolean graceOver() {
        return shuttingDown && System.nanoTime() - deadlineNanos >= 0;
    }

    /** An idle park of {@code park} ns, cut short so a sleeping worker wakes when the grace ends. */
    long boundPark(long park) {
        return shuttingDown ? Math.max(0, Math.min(park, deadlineNanos - System.nanoTime())) : park;
    }
}
