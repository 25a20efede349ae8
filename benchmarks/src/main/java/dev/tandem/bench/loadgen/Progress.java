package dev.tandem.bench.loadgen;

import java.io.PrintStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/** A one-line progress bar on stderr, redrawn with a carriage return twice a second: done/total, failures, running, elapsed. */
final class Progress implements AutoCloseable {
    /** Makes the bar of a run once its bounds are known. */
    interface Factory {
        Progress make(int total, double durationSeconds, IntSupplier running);
    }

    private final PrintStream err;
    private final int total;           // -1: bounded by time only
    private final double durationSeconds;
    private final IntSupplier running;
    private final long start = System.nanoTime();
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private final ScheduledExecutorService timer;

    Progress(PrintStream err, boolean enabled, int total, double durationSeconds, IntSupplier running) {
        this.err = err;
        this.total = total;
        this.durationSeconds = durationSeconds;
        this.running = running;
        if (enabled) {
            timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("loadgen-progress").factory());
            timer.scheduleAtFixedRate(this::draw, 500, 500, TimeUnit.MILLISECONDS);
        } else {
            timer = null;
        }
    }

    void finished(RequestResult r) {
        done.incrementAndGet();
        if (!r.success()) {
            failed.incrementAndGet();
        }
    }

    String line() {
        double elapsed = (System.nanoTime() - start) / 1e9;
        double frac = total > 0 ? done.get() / (double) total
                : Double.isFinite(durationSeconds) ? Math.min(1, elapsed / durationSeconds) : 0;
        int width = 30;
        int fill = (int) Math.round(frac * width);
        return String.format(java.util.Locale.ROOT, "[%s%s] %d%s done, %d failed, %d running, %.1f s",
                "#".repeat(fill), "-".repeat(width - fill), done.get(), total > 0 ? "/" + total : "", failed.get(),
                running.getAsInt(), elapsed);
    }

    private void draw() {
        err.print("\r" + line() + "  ");
        err.flush();
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
            draw();
            err.println();
        }
    }
}
