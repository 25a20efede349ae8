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
 *   <li>runs one batched step of ≤ {@code prefillChunk} rows over several prompts (each weight
 *       row streamed once for all): prompts that complete within the step first, shortest first,
 *       then at least half a step of the oldest prompt's, then the rest ({@link #stepOrder}); a
 *       prompt's last chunk computes logits for its last position only, and its first token is
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
    /** Prompts in one prefill step at most (bounds the logits buffer for big vocabularies). */
    static final int MAX_PROMPTS_PER_STEP = 16;
    private final float[] logits;          // [stepReq.length][vocab] each completing prompt's last-position logits
    private final ActiveRequest[] stepReq; // [min(maxRunning, prefillChunk, MAX_PROMPTS_PER_STEP)] prompts of the current step
    private final dev.tandem.model.Sequence[] stepSeq;
    private final int[][] stepTok;
    private final int[] stepFrom;          // first prompt index of each prompt's chunk
    private final int[] stepLen;           // chunk length of each
    private final boolean[] stepLast;      // whether the chunk completes its prompt
    final ConcurrentLinkedQueue<ActiveRequest> inbox = new ConcurrentLinkedQueue<>();
    private final ArrayDeque<ActiveRequest> waiting = new ArrayDeque<>();    // accepted, not admitted
    private final ArrayDeque<ActiveRequest> prefilling = new ArrayDeque<>(); // admitted, prompt not done, oldest first
    private final ArrayList<ActiveRequest> order = new ArrayList<>();        // scratch of stepOrder: the next step's prompts
    private final ArrayList<ActiveRequest> others = new ArrayList<>();       // scratch of stepOrder
    private static final java.util.Comparator<ActiveRequest> BY_REMAINING =
            java.util.Comparator.comparingInt(r -> r.prompt.length - r.prefilled);
    private final Thread thread;
    volatile boolean exited;
    volatile int lastStepPrompts;                      // prompts in the last prefill step (status)
    private volatile List<Integer> cpus = List.of();   // CPUs its threads may run on, once started
    private volatile boolean pinned;
    /** Test seam: run on the prefill thread after each step that leaves a prompt unfinished (null: nothing). */
    volatile Runnable afterChunk;

    PrefillPool(SplitEngine engine, Model model, KvCache kv) {
        this.e = engine;
        int prompts = Math.min(MAX_PROMPTS_PER_STEP, Math.min(engine.config.maxRunning(), engine.config.prefillChunk()));
        this.logits = new float[Math.multiplyExact(prompts, model.config().vocab())];
        this.stepReq = new ActiveRequest[prompts];
        this.stepSeq = new dev.tandem.model.Sequence[prompts];
        this.stepTok = new int[prompts][];
        this.stepFrom = new int[prompts];
        this.stepLen = new int[prompts];
        this.stepLast = new boolean[prompts];
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
    List<Integer> cpus() {
        return cpus;
    }

    boolean pinned() {
        return pinned;
    }

    private void pinAwayFromDecode() {
        cpus = Affinity.current();
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
        cpus = List.copyOf(rest);
        pinned = true;
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
        boolean worked = adoptImports();
        worked |= prefillOneStep();
        if (!worked && inbox.isEmpty()) { // idle, or waiting for a slot or pages (an ending request wakes us)
            long park = SplitEngine.IDLE_PARK_NANOS;
            park = e.lifecycle.boundPark(park);
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
            if (r.cancelRequested) { // a group is cancelled as one (its handle cancels every choice)
                it.remove();
                e.metrics.waiting.addAndGet(-members(r));
                endGroup(r, FinishReason.CANCELLED, null);
            }
        }
        for (Iterator<ActiveRequest> it = prefilling.iterator(); it.hasNext(); ) {
            ActiveRequest r = it.next();
            if (r.cancelRequested) {
                it.remove();
                endGroup(r, FinishReason.CANCELLED, null);
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
            e.metrics.waiting.addAndGet(-members(r));
            try {
                prepare(r);
                if (r.followers != null) {
                    for (ActiveRequest f : r.followers) {
                        prepare(f);
                    }
                }
            } catch (RuntimeException x) {
                endGroup(r, null, SplitEngine.internal("admission failed", x));
                continue;
            }
            prefilling.addLast(r);
        }
    }

    /** Sampler (fed the prompt), detokenizer and stop matcher of an admitted request. */
    private void prepare(ActiveRequest r) {
        r.sampler = new Sampler(r.request.sampling(), e.vocab);
        for (int t : r.prompt) {
            r.sampler.accept(t);
        }
        if (!e.tokensOnly) {
            r.decoder = new StreamingDecoder(e.tokenizer);
            r.stops = new StopMatcher(r.request.stop());
        }
    }

    private static int members(ActiveRequest leader) {
        return leader.followers == null ? 1 : 1 + leader.followers.length;
    }

    /** Ends a request and, before its prefill is done, the other choices that share its prompt. */
    private void endGroup(ActiveRequest leader, FinishReason reason, EngineException error) {
        if (leader.followers != null) {
            for (ActiveRequest f : leader.followers) {
                e.end(f, reason, error);
            }
        }
        e.end(leader, reason, error);
    }

    /**
     * One batched prefill step: the oldest prompt's next chunk (≤ {@code prefillChunk} tokens), then
     * chunks of the next prompts, oldest first, while the step has rows and prompt slots left. Each
     * prompt that completes gets logits for its last position only, its first token, and migrates.
     *
     * @return whether a step ran
     */
    private boolean prefillOneStep() {
        int budget = e.config.prefillChunk(), k = 0;
        for (ActiveRequest r : stepOrder()) {
            if (budget == 0 || k == stepReq.length) {
                break;
            }
            if (r.imported != null) { // its prompt is prefilled on another node (adoptImports)
                continue;
            }
            int n = Math.min(budget, r.prompt.length - r.prefilled);
            if (r.prefillStartNanos == 0) {
                r.prefillStartNanos = System.nanoTime();
                EngineMetrics.record(e.metrics.queue, r.prefillStartNanos - r.arrivalNanos);
                e.metrics.promptTokensCached.increment(r.prefilled);
            }
            stepReq[k] = r;
            stepSeq[k] = r.seq;
            stepTok[k] = r.prompt;
            stepFrom[k] = r.prefilled;
            stepLen[k] = n;
            stepLast[k] = r.prefilled + n == r.prompt.length;
            budget -= n;
            k++;
        }
        lastStepPrompts = k;
        if (k == 0) {
            return false;
        }
        try {
            forward.prefillBatch(stepSeq, stepTok, stepFrom, stepLen, k, stepLast, logits);
        } catch (RuntimeException x) {
            EngineException err = SplitEngine.internal("prefill failed", x);
            for (int i = 0; i < k; i++) {
                prefilling.remove(stepReq[i]);
                endGroup(stepReq[i], null, err);
            }
            clearStep(k);
            return true;
        }
        boolean unfinished = false;
        for (int i = 0; i < k; i++) {
            stepReq[i].prefilled += stepLen[i];
            e.metrics.promptTokens.increment(stepLen[i]);
            unfinished |= !stepLast[i];
        }
        if (unfinished) {
            exportProgress(k);
            Runnable hook = afterChunk;
            if (hook != null) {
                hook.run();
            }
        }
        long now = System.nanoTime();
        for (int i = 0; i < k; i++) {
            if (stepLast[i]) {
                prefilling.remove(stepReq[i]);
                firstTokenAndMigrate(stepReq[i], i * e.vocab, now);
            }
        }
        clearStep(k);
        return true;
    }

    /** Cluster prefill node: each unfinished prompt of the step that is shipped elsewhere may send what is computed so far. */
    private void exportProgress(int k) {
        for (int i = 0; i < k; i++) {
            ActiveRequest r = stepReq[i];
            if (!stepLast[i] && r.export != null) {
                try {
                    r.export.progress(r.seqKv, r.seq);
                } catch (RuntimeException x) {
                    prefilling.remove(r);
                    e.end(r, null, SplitEngine.internal("sending the sequence to the decode node failed", x));
                }
            }
        }
    }

    /**
     * The order prompts take rows in the next step: first those that complete within the rows left
     * after the oldest prompt's half, shortest remaining first (a short chat turn is not queued
     * behind a long prompt: its TTFT is one step, not the long prompt's whole prefill); then the
     * oldest prompt, which always progresses by at least half a step (no prompt starves); then the
     * rest, shortest remaining first. Which prompt goes in which step never changes a prompt's
     * K/V or logits (batch invariance), only when it finishes.
     */
    private List<ActiveRequest> stepOrder() {
        order.clear();
        ActiveRequest oldest = prefilling.peekFirst();
        if (oldest == null) {
            return order;
        }
        int chunk = e.config.prefillChunk();
        int room = prefilling.size() > 1 ? chunk - Math.min(chunk / 2, oldest.prompt.length - oldest.prefilled) : 0;
        for (ActiveRequest r : prefilling) {
            if (r != oldest) {
                others.add(r);
            }
        }
        others.sort(BY_REMAINING); // stable: ties oldest first
        for (java.util.Iterator<ActiveRequest> it = others.iterator(); it.hasNext(); ) {
            ActiveRequest r = it.next();
            int left = r.prompt.length - r.prefilled;
            if (left <= room) {
                order.add(r);
                room -= left;
                it.remove();
            }
        }
        order.add(oldest);
        order.addAll(others);
        others.clear();
        return order;
    }

    private void clearStep(int k) {
        for (int i = 0; i < k; i++) {
            stepReq[i] = null;
            stepSeq[i] = null;
            stepTok[i] = null;
        }
    }

    /** A prompt is in the cache: its first token from {@code logits[offset ..]}, then migration to the decode worker. */
    private void firstTokenAndMigrate(ActiveRequest leader, int offset, long now) {
        leader.seqKv.publishPrefix(leader.seq, leader.prompt, leader.prompt.length / SplitEngine.PAGE_SIZE);
        if (leader.followers == null) {
            firstTokenAndMigrateOne(leader, offset, now);
            return;
        }
        // n > 1: give every choice the prompt's K/V first (the leader may end with its first token,
        // and its pages with it), then a first token each from the same logits row, then migrate each.
        ActiveRequest[] group = new ActiveRequest[members(leader)];
        group[0] = leader;
        System.arraycopy(leader.followers, 0, group, 1, leader.followers.length);
        leader.followers = null;
        for (int i = 1; i < group.length; i++) {
            ActiveRequest f = group[i];
            f.prefilled = leader.prefilled;
            f.prefillStartNanos = leader.prefillStartNanos;
            try {
                e.migration.fork(leader, f);
            } catch (RuntimeException x) {
                e.end(f, null, SplitEngine.internal("KV fork failed", x));
            }
        }
        for (ActiveRequest r : group) {
            if (!r.ended) {
                firstTokenAndMigrateOne(r, offset, now);
            }
        }
    }

    private void firstTokenAndMigrateOne(ActiveRequest r, int offset, long now) {
        e.deliver(r, logits, offset, now);
        if (r.export != null) {
            exportSequence(r);
            return;
        }
        migrate(r);
    }

    /** Cluster prefill node: the sequence (or, when the first token ended it, only that token) goes to another node; it ends here. */
    private void exportSequence(ActiveRequest r) {
        try {
            r.export.export(r.seqKv, r.ended ? null : r.seq, r.ended ? 0 : r.sampler.rngState());
        } catch (RuntimeException x) {
            e.end(r, null, SplitEngine.internal("sending the sequence to the decode node failed", x));
            return;
        }
        e.end(r, FinishReason.STOP, null);
    }

    /**
     * Cluster decode node: requests admitted whose K/V come from another node. Each one whose
     * transfer failed ends with that error; each one that arrived gets its K/V written into its
     * reserved pages, its sampler rebuilt, its first token delivered, and migrates to the decode worker.
     *
     * @return whether any was adopted or ended
     */
    private boolean adoptImports() {
        boolean any = false;
        for (Iterator<ActiveRequest> it = prefilling.iterator(); it.hasNext(); ) {
            ActiveRequest r = it.next();
            SequenceImport in = r.imported;
            if (in == null) {
                continue;
            }
            String failure = in.failure();
            if (failure == null && !in.arrived()) {
                continue;
            }
            it.remove();
            any = true;
            if (failure != null) {
                e.end(r, null, new EngineException(EngineException.Kind.INTERNAL, failure));
                continue;
            }
            long now = System.nanoTime();
            try {
                r.prefillStartNanos = now;
                in.writeInto(r.seqKv, r.seq);
                r.prefilled = r.prompt.length;
                r.sampler = new Sampler(r.request.sampling().withSeed(in.rngState()), e.vocab);
                for (int t : r.prompt) {
                    r.sampler.accept(t);
                }
            } catch (RuntimeException x) {
                e.end(r, null, SplitEngine.internal("adopting the transferred sequence failed", x));
                continue;
            }
            e.deliverGiven(r, in.firstToken(), in.firstLogprobs(), now);
            migrate(r);
        }
        return any;
    }

    /** After its first token: the request's sequence migrates to the decode worker (unless it has ended). */
    private void migrate(ActiveRequest r) {
        if (r.ended) {
            return;
        }
        if (r.cancelRequested || e.graceOver()) { // e.g. cancelled from within onToken of the first token
            e.end(r, FinishReason.CANCELLED, null);
            return;
        }
        try {
            e.migration.start(r);
        } catch (RuntimeException x) {
            e.end(r, null, SplitEngine.internal("KV migration failed", x));
            return;
        }
        e.updateKvUsed(); // copy: the prefill-side pages are free again
        if (!e.handoff.offer(r)) { // cannot happen: admitted requests never exceed the queue's capacity
            e.end(r, null, new EngineException(EngineException.Kind.INTERNAL, "the decode hand-off queue is full"));
            return;
        }
        e.decode.wake();
    }

    private void cancelEverything() {
        while (!waiting.isEmpty()) {
            ActiveRequest r = waiting.pollFirst();
            e.metrics.waiting.addAndGet(-members(r));
            endGroup(r, FinishReason.CANCELLED, null);
        }
        while (!prefilling.isEmpty()) {
            endGroup(prefilling.pollFirst(), FinishReason.CANCELLED, null);
        }
    }

    private void failEverything(EngineException error) {
        drainInbox();
        while (!waiting.isEmpty()) {
            ActiveRequest r = waiting.pollFirst();
            e.metrics.waiting.addAndGet(-members(r));
            endGroup(r, null, error);
        }
        while (!prefilling.isEmpty()) {
            endGroup(prefilling.pollFirst(), null, error);
        }
    }
}
