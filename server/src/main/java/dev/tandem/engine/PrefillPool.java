package dev.tandem.engine;

import dev.tandem.kernels.Parallel;
import dev.tandem.model.Forward;
import dev.tandem.model.KvCache;
import dev.tandem.model.Model;
import dev.tandem.model.Sampler;
import dev.tandem.tokenizer.StreamingDecoder;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * The split engine's prefill side: one thread ({@code tandem-prefill}) driving its own compute
 * pool of {@code prefillThreads} threads and its own {@link Forward} (rows up to
 * {@code prefillChunk}). When the decode threads are pinned, the prefill threads are pinned to the
 * remaining CPUs, so the two sides never share a core. Each iteration:
 * <ol>
 *   <li>takes new requests into the waiting queue; ends cancelled ones it owns (waiting or
 *       prefilling), and all of them once a shutdown's grace is over;</li>
 *   <li>admits waiting requests, oldest first, while a running slot and their KV pages are free
 *       (no overtaking: the head waits for pages);</li>
 *   <li>runs one chunk (≤ {@code prefillChunk} tokens) of the oldest admitted prompt; the last
 *       chunk computes logits for the prompt's last position only, and the first token is
 *       sampled and delivered here (TTFT ends);</li>
 *   <li>migrates a finished prompt's sequence ({@link KvMigration}) and offers it to the decode
 *       worker's hand-off queue, which always has room (admitted requests ≤ its capacity).</li>
 * </ol>
 */
final class PrefillPool {
    private static final System.Logger LOG = System.getLogger(PrefillPool.class.getName());
    private final SplitEngine e;
    private final Parallel pool;
    private final Forward forward;
    private final float[] logits;  // [vocab] the last prompt position's logits
    final ConcurrentLinkedQueue<ActiveRequest> inbox = new ConcurrentLinkedQueue<>();
    private final ArrayDeque<ActiveRequest> waiting = new ArrayDeque<>();    // accepted, not admitted
    private final ArrayDeque<ActiveRequest> prefilling = new ArrayDeque<>(); // admitted, prompt not done, oldest first
    private final Thread thread;
    volatile boolean exited;
    /** Test seam: run on the prefill thread after each chunk that is not a prompt's last (null: nothing). */
    volatile Runnable afterChunk;

    PrefillPool(SplitEngine engine, Model model, KvCache kv) {
        this.e = engine;
        this.logits = new float[model.config().vocab()];
        this.pool = new Parallel(engine.split.prefillThreads(), "tandem-prefill");
        try {
            this.forward = new Forward(model, kv, pool, engine.config.prefillChunk());
        } catch (RuntimeException | OutOfMemoryError x) {
            pool.close();
            throw x;
        }
        this.thread = new Thread(this::run, "tandem-prefill");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void wake() {
        LockSupport.unpark(thread);
    }

    /** Waits for the thread to end, then closes the pool. @return whether the wait was interrupted */
    boolean join() {
        boolean interrupted = false;
        while (Thread.currentThread() != thread) {
            try {
                thread.join();
                break;
            } catch (InterruptedException x) {
                interrupted = true;
            }
        }
        pool.close();
        return interrupted;
    }

    /**
     * When the decode threads are pinned, keeps the prefill threads off their CPUs: pins this thread
     * and each pool thread to the CPUs the process may use minus the decode CPUs (when any remain).
     */
    private void pinAwayFromDecode() {
        List<Integer> decodeCpus = e.split.decodeCpus();
        if (decodeCpus.isEmpty()) {
            return;
        }
        List<Integer> rest = new ArrayList<>(Affinity.current());
        rest.removeAll(decodeCpus);
        if (rest.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "prefill pool: no CPU left besides the decode CPUs " + decodeCpus
                    + "; prefill threads are not pinned");
            return;
        }
        int threads = pool.threads();
        Affinity.Result[] got = new Affinity.Result[threads];
        pool.forRange(threads, 1, (start, end) -> {
            for (int i = start; i < end; i++) {
                got[i] = Affinity.pin(rest);
            }
        });
        for (Affinity.Result r : got) {
            if (!r.pinned()) {
                LOG.log(System.Logger.Level.WARNING, "prefill pool: pinning to " + rest + " refused (" + r.error()
                        + "); running unpinned");
                return;
            }
        }
        LOG.log(System.Logger.Level.INFO, "prefill pool: " + threads + " threads pinned to CPUs " + rest
                + " (away from the decode CPUs " + decodeCpus + ")");
    }

    private void run() {
        pinAwayFromDecode();
        try {
            while (!e.closed) {
                try {
                    step();
                } catch (Throwable t) { // a bug outside any one request: fail what this side owns rather than hang it
                    failEverything(SplitEngine.internal("prefill step failed", t));
                }
            }
            drainInbox();
            cancelEverything();
        } finally {
            exited = true;
            e.decode.wake();
        }
    }

    private void step() {
        drainInbox();
        if (e.graceOver()) {
            cancelEverything();
        }
        reapCancelled();
        admit();
        boolean worked = prefillOneChunk();
        if (!worked && inbox.isEmpty()) { // idle, or waiting for a slot or pages (an ending request wakes us)
            long park = SplitEngine.IDLE_PARK_NANOS;
            if (e.shuttingDown) {
                park = Math.max(0, Math.min(park, e.deadlineNanos - System.nanoTime()));
            }
            LockSupport.parkNanos(this, park);
        }
    }

    private void drainInbox() {
        for (ActiveRequest r; (r = inbox.poll()) != null; ) {
            waiting.addLast(r);
        }
    }

    private void reapCancelled() {
        for (Iterator<ActiveRequest> it = waiting.iterator(); it.hasNext(); ) {
            ActiveRequest r = it.next();
            if (r.cancelRequested) {
                it.remove();
                e.metrics.waiting.decrementAndGet();
                e.end(r, FinishReason.CANCELLED, null);
            }
        }
        for (Iterator<ActiveRequest> it = prefilling.iterator(); it.hasNext(); ) {
            ActiveRequest r = it.next();
            if (r.cancelRequested) {
                it.remove();
                e.end(r, FinishReason.CANCELLED, null);
            }
        }
    }

    private void admit() {
        while (!waiting.isEmpty()) {
            ActiveRequest r = waiting.peekFirst();
            if (!e.admit(r)) {
                return;
            }
            waiting.pollFirst();
            e.metrics.waiting.decrementAndGet();
            try {
                r.sampler = new Sampler(r.request.sampling(), e.vocab);
                for (int t : r.prompt) {
                    r.sampler.accept(t);
                }
                if (!e.tokensOnly) {
                    r.decoder = new StreamingDecoder(e.tokenizer);
                    r.stops = new StopMatcher(r.request.stop());
                }
            } catch (RuntimeException x) {
                e.end(r, null, SplitEngine.internal("admission failed", x));
                continue;
            }
            prefilling.addLast(r);
        }
    }

    /** @return whether a chunk ran */
    private boolean prefillOneChunk() {
        ActiveRequest r = prefilling.peekFirst();
        if (r == null) {
            return false;
        }
        if (r.prefilled == 0) {
            r.prefillStartNanos = System.nanoTime();
            EngineMetrics.record(e.metrics.queue, r.prefillStartNanos - r.arrivalNanos);
        }
        int n = Math.min(e.config.prefillChunk(), r.prompt.length - r.prefilled);
        boolean last = r.prefilled + n == r.prompt.length;
        try {
            forward.prefill(r.seq, r.prompt, r.prefilled, n, last ? logits : null, false);
        } catch (RuntimeException x) {
            prefilling.pollFirst();
            e.end(r, null, SplitEngine.internal("prefill failed", x));
            return true;
        }
        r.prefilled += n;
        e.metrics.promptTokens.increment(n);
        if (!last) {
            Runnable hook = afterChunk;
            if (hook != null) {
                hook.run();
            }
            return true;
        }
        prefilling.pollFirst();
        e.deliver(r, logits, 0, System.nanoTime());
        if (r.ended) {
            return true;
        }
        if (r.cancelRequested || e.graceOver()) { // e.g. cancelled from within onToken of the first token
            e.end(r, FinishReason.CANCELLED, null);
            return true;
        }
        try {
            e.migration.start(r);
        } catch (RuntimeException x) {
            e.end(r, null, SplitEngine.internal("KV migration failed", x));
            return true;
        }
        if (!e.handoff.offer(r)) { // cannot happen: admitted requests never exceed the queue's capacity
            e.end(r, null, new EngineException(EngineException.Kind.INTERNAL, "the decode hand-off queue is full"));
            return true;
        }
        e.decode.wake();
        return true;
    }

    private void cancelEverything() {
        while (!waiting.isEmpty()) {
            e.metrics.waiting.decrementAndGet();
            e.end(waiting.pollFirst(), FinishReason.CANCELLED, null);
        }
        while (!prefilling.isEmpty()) {
            e.end(prefilling.pollFirst(), FinishReason.CANCELLED, null);
        }
    }

    private void failEverything(EngineException error) {
        drainInbox();
        while (!waiting.isEmpty()) {
            e.metrics.waiting.decrementAndGet();
            e.end(waiting.pollFirst(), null, error);
        }
        while (!prefilling.isEmpty()) {
            e.end(prefilling.pollFirst(), null, error);
        }
    }
}
