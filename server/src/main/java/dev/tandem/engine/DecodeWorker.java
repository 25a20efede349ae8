package dev.tandem.engine;

import dev.tandem.kernels.Parallel;
import dev.tandem.model.Forward;
import dev.tandem.model.KvCache;
import dev.tandem.model.Model;
import dev.tandem.model.Sequence;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.locks.LockSupport;

/**
 * The split engine's decode side: one thread ({@code tandem-decode}) driving its own compute pool
 * of {@code decodeThreads} threads (itself included) and its own {@link Forward} sized for
 * {@code maxRunning} rows, over the decode-side KV cache. At start it pins itself and each pool
 * thread to {@code decodeCpus} ({@link Affinity}; a refusal is logged and the worker runs unpinned).
 *
 * <p>Continuous batching: sequences join (from the hand-off queue) and leave (ended) only between
 * steps. One step = one {@code Forward.decode} over every live sequence, then sampling and delivery
 * of each row's token. Every buffer of a step is preallocated: the step itself allocates nothing
 * but what a sink's text needs (the streaming detokenizer's strings) and what a request's end needs
 * (its {@link Usage}); it takes no lock (page release at a request's end is the one synchronized call,
 * between rows' deliveries) and logs nothing unless something fails.
 */
final class DecodeWorker {
    private static final System.Logger LOG = System.getLogger(DecodeWorker.class.getName());

    private final SplitEngine e;
    private final Parallel pool;
    private final Forward forward;
    private final int vocab;
    private final ActiveRequest[] live;     // [maxRunning] decoding requests, the first liveCount in use
    private int liveCount;
    private final ActiveRequest[] batchReq; // [maxRunning] rows of the current step
    private final Sequence[] batchSeq;      // [maxRunning]
    private final int[] batchTok;           // [maxRunning]
    private final float[] logits;           // [maxRunning][vocab]
    private final Thread thread;
    private volatile List<Integer> cpus = List.of();
    private volatile boolean pinned;

    DecodeWorker(SplitEngine engine, Model model, KvCache kv) {
        this.e = engine;
        int n = engine.config.maxRunning();
        this.vocab = model.config().vocab();
        this.live = new ActiveRequest[n];
        this.batchReq = new ActiveRequest[n];
        this.batchSeq = new Sequence[n];
        this.batchTok = new int[n];
        this.logits = new float[Math.multiplyExact(n, vocab)];
        this.pool = new Parallel(engine.split.decodeThreads(), "tandem-decode", Parallel.Schedule.FIXED);
        try {
            this.forward = new Forward(model, kv, pool, n);
        } catch (RuntimeException | OutOfMemoryError x) {
            pool.close();
            throw x;
        }
        this.thread = new Thread(this::run, "tandem-decode");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void wake() {
        LockSupport.unpark(thread);
    }

    void closePool() {
        pool.close();
    }

    /** The CPUs the decode threads may run on (the union over them), known once the worker has started. */
    List<Integer> cpus() {
        return cpus;
    }

    /** Whether every decode thread was pinned to the configured CPUs. */
    boolean pinned() {
        return pinned;
    }

    /** The decode thread, then its pool's workers. */
    Thread[] threads() {
        Thread[] w = pool.workers();
        Thread[] all = new Thread[w.length + 1];
        all[0] = thread;
        System.arraycopy(w, 0, all, 1, w.length);
        return all;
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

    // ---- the decode thread ----

    private void run() {
        pin();
        while (true) {
            boolean prefillGone = e.prefill.exited; // read first: nothing is offered after it is set
            try {
                step();
            } catch (Throwable t) { // a bug outside any one request: fail the live ones rather than hang them
                failEverything(SplitEngine.internal("decode step failed", t));
            }
            if (prefillGone && e.handoff.isEmpty() && liveCount == 0) {
                return;
            }
        }
    }

    /** Pins this thread and each pool thread to the configured CPUs; logs what each got. */
    private void pin() {
        List<Integer> want = e.split.decodeCpus();
        int threads = pool.threads();
        Affinity.Result[] got = new Affinity.Result[threads];
        Parallel.RangeTask task = (start, end) -> {
            for (int i = start; i < end; i++) {
                got[i] = want.isEmpty() ? new Affinity.Result(Affinity.current(), null) : Affinity.pin(want);
            }
        };
        pool.forRange(threads, 1, task); // grain 1, n = threads: each thread runs exactly one unit
        TreeSet<Integer> union = new TreeSet<>();
        List<String> refused = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            union.addAll(got[i].cpus());
            if (!got[i].pinned()) {
                refused.add("thread " + i + ": " + got[i].error());
            }
        }
        cpus = List.copyOf(union);
        pinned = !want.isEmpty() && refused.isEmpty();
        if (want.isEmpty()) {
            LOG.log(System.Logger.Level.DEBUG, "decode worker: " + threads + " threads, not pinned (CPUs " + cpus + ")");
        } else if (refused.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "decode worker: " + threads + " threads pinned to CPUs " + cpus);
        } else {
            LOG.log(System.Logger.Level.WARNING, "decode worker: pinning to " + want + " refused, running unpinned where it was ("
                    + String.join("; ", refused) + "); CPUs now " + cpus);
        }
    }

    /** Between steps: adopt migrated sequences and end cancelled ones; then one decode step over the rest. */
    private void step() {
        compactLive();
        for (ActiveRequest r; liveCount < live.length && (r = e.handoff.poll()) != null; ) {
            e.migration.finish(r, System.nanoTime()); // read after the poll: the migration may have started a moment ago
            live[liveCount++] = r;
        }
        boolean stop = e.graceOver() || e.closed;
        int n = 0;
        for (int i = 0; i < liveCount; i++) {
            ActiveRequest r = live[i];
            if (r.ended) {
                continue;
            }
            if (r.cancelRequested || stop) {
                e.end(r, FinishReason.CANCELLED, null);
            } else {
                batchReq[n] = r;
                batchSeq[n] = r.seq;
                batchTok[n] = r.pendingToken;
                n++;
            }
        }
        e.metrics.batchSize.set(n);
        if (n == 0) {
            compactLive();
            if (e.handoff.isEmpty() && !e.prefill.exited) {
                long park = SplitEngine.IDLE_PARK_NANOS;
                park = e.lifecycle.boundPark(park);
                LockSupport.parkNanos(this, park);
            }
            return;
        }
        try {
            forward.decode(batchSeq, batchTok, n, logits);
        } catch (RuntimeException x) {
            EngineException err = SplitEngine.internal("decode step failed", x);
            for (int i = 0; i < n; i++) {
                e.end(batchReq[i], null, err);
            }
            clearBatch(n);
            return;
        }
        long now = System.nanoTime();
        for (int i = 0; i < n; i++) {
            e.deliver(batchReq[i], logits, i * vocab, now);
        }
        clearBatch(n);
    }

    private void clearBatch(int n) {
        for (int i = 0; i < n; i++) {
            batchReq[i] = null;
            batchSeq[i] = null;
        }
    }

    /** Drops ended requests from {@code live}, keeping the rest in arrival order. */
    private void compactLive() {
        int k = 0;
        for (int i = 0; i < liveCount; i++) {
            if (!live[i].ended) {
                live[k++] = live[i];
            }
        }
        for (int i = k; i < liveCount; i++) {
            live[i] = null;
        }
        liveCount = k;
    }

    private void failEverything(EngineException error) {
        for (ActiveRequest r; (r = e.handoff.poll()) != null; ) {
            e.end(r, null, error);
        }
        for (int i = 0; i < liveCount; i++) {
            e.end(live[i], null, error);
        }
        compactLive();
    }
}
