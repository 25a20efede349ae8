package dev.tandem.engine;

import dev.tandem.kernels.Parallel;
import dev.tandem.model.Forward;
import dev.tandem.model.KvCache;
import dev.tandem.model.Model;
import dev.tandem.model.ModelConfig;
import dev.tandem.model.Sampler;
import dev.tandem.model.Sequence;
import dev.tandem.tokenizer.ChatTemplate;
import dev.tandem.tokenizer.StreamingDecoder;
import dev.tandem.tokenizer.Tokenizer;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The {@code --mode colocated} engine: one scheduler thread interleaves prefill chunks and decode
 * steps over one compute pool, the llama.cpp-server way. Each iteration of {@link #step}:
 * <ol>
 *   <li>takes new requests into the waiting queue and ends cancelled ones (queued or running);</li>
 *   <li>admits waiting requests, oldest first, while a running slot and KV pages for their whole
 *       budget (prompt + maxTokens − 1 positions) are free — reserved up front, so no request is
 *       ever preempted; the head of the queue waits until pages free up;</li>
 *   <li>runs at most one prefill chunk (≤ {@code prefillChunk} tokens) of the oldest admitted
 *       request still prefilling; its last chunk's logits give its first token (TTFT);</li>
 *   <li>runs one decode step with one row per running sequence ({@code Forward.decode}), samples,
 *       and delivers each row's token.</li>
 * </ol>
 * Cancellation is a volatile flag read at the top of each iteration and again as each decode batch
 * is formed, so a cancelled request gets no token computed after the flag is seen. Every request ends exactly once, on the scheduler thread, and returns
 * its KV pages before its sink hears of it (DESIGN.md invariant 3). A sink that throws ends only
 * its own request (as failed). Decode buffers are sized for {@code maxRunning} rows at start.
 *
 * <p>Decisions: a rejected {@link #submit} throws and calls nothing on the sink. Token ids are
 * checked against the model's vocabulary; tokens are sampled from the first
 * min(model vocabulary, tokenizer vocabulary) logits. The end-of-generation token that stops a
 * request is delivered through {@code onToken} with no text of its own (only text held back before
 * it) and is counted in {@code completionTokens}, as OpenAI and llama.cpp count it; so
 * {@code completionTokens} always equals the number of {@code onToken} calls. Text held back
 * (a possible stop-string start, an incomplete character) is dropped when a request is cancelled.
 * Shutdown keeps serving every accepted request (queued ones included) until the grace ends.
 */
public final class ColocatedEngine implements Engine {
    private static final System.Logger LOG = System.getLogger(ColocatedEngine.class.getName());
    /** Positions per KV page. */
    static final int PAGE_SIZE = 16;
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final EngineConfig config;
    private final ModelInfo info;
    private final Tokenizer tokenizer;
    private final int vocab;        // logits per row (the model's vocabulary)
    private final int sampleVocab;  // logits a token is drawn from: min(model, tokenizer) vocabulary
    private final EngineMetrics metrics;
    private final Delivery delivery;
    private final Parallel pool;
    private final KvCache kv;
    private final Forward forward;

    // Scheduler-owned state, all sized at start.
    private final ArrayDeque<ActiveRequest> waiting = new ArrayDeque<>();
    private final ActiveRequest[] live;     // [maxRunning] admitted requests, oldest first, the first liveCount in use
    private int liveCount;
    private final Sequence[] freeSeqs;      // [maxRunning] page tables not in use, the first freeSeqCount
    private int freeSeqCount;
    private final ActiveRequest[] batchReq; // [maxRunning] rows of the current decode step
    private final Sequence[] batchSeq;      // [maxRunning]
    private final int[] batchTok;           // [maxRunning]
    private final float[] logits;           // [maxRunning][vocab] decode logits; row 0 also takes a prefill's last logits

    // Shared with submitters.
    private final ConcurrentLinkedQueue<ActiveRequest> inbox = new ConcurrentLinkedQueue<>();
    private final Lifecycle lifecycle = new Lifecycle();
    private volatile boolean closed;
    private final Thread scheduler;

    /**
     * Starts the scheduler thread and a compute pool of {@code config.threads()} threads.
     *
     * @param template the chat template the front end renders with, or null
     * @throws IllegalArgumentException when the configuration does not fit the model
     */
    public ColocatedEngine(Model model, Tokenizer tokenizer, ChatTemplate template, EngineConfig config,
                           MeterRegistry registry) {
        this.config = Objects.requireNonNull(config, "config");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        ModelConfig c = model.config();
        if (config.contextLength() > c.contextLength()) {
            throw new IllegalArgumentException("context length " + config.contextLength() + " exceeds the model's "
                    + c.contextLength());
        }
        this.info = new ModelInfo(config.modelId(), config.contextLength(), tokenizer, template);
        this.vocab = c.vocab();
        this.sampleVocab = Math.min(c.vocab(), tokenizer.vocabSize());
        int n = config.maxRunning();
        this.kv = KvCache.forPositions(c, config.kvPositions(), PAGE_SIZE, config.kvType());
        this.metrics = new EngineMetrics(registry, kv.pages);
        this.delivery = new Delivery(tokenizer, sampleVocab, metrics, this::end);
        this.live = new ActiveRequest[n];
        this.freeSeqs = new Sequence[n];
        for (int i = 0; i < n; i++) {
            freeSeqs[i] = new Sequence(config.contextLength(), PAGE_SIZE);
        }
        this.freeSeqCount = n;
        this.batchReq = new ActiveRequest[n];
        this.batchSeq = new Sequence[n];
        this.batchTok = new int[n];
        this.logits = new float[Math.multiplyExact(n, vocab)];
        this.pool = new Parallel(config.threads(), "tandem-compute");
        try {
            this.forward = new Forward(model, kv, pool, Math.max(config.prefillChunk(), n));
        } catch (RuntimeException | OutOfMemoryError e) {
            pool.close();
            throw e;
        }
        this.scheduler = new Thread(this::run, "tandem-scheduler");
        scheduler.setDaemon(true);
        scheduler.start();
    }

    @Override
    public ModelInfo model() {
        return info;
    }

    @Override
    public RequestHandle submit(GenerationRequest request, TokenSink sink) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(sink, "sink");
        long now = System.nanoTime();
        String problem = RequestChecks.problem(request, config.contextLength(), vocab);
        if (problem != null) {
            throw reject(EngineException.Kind.INVALID_REQUEST, problem);
        }
        int maxTokens = RequestChecks.maxTokens(request, config.contextLength());
        ActiveRequest r = new ActiveRequest(request, sink, maxTokens, now, this::wake);
        if ((r.positions() + PAGE_SIZE - 1) / PAGE_SIZE > kv.pages) { // unreachable while kvPositions ≥ contextLength
            throw reject(EngineException.Kind.INVALID_REQUEST, "the request needs " + r.positions()
                    + " KV positions; the cache holds " + (long) kv.pages * PAGE_SIZE);
        }
        lifecycle.admit(1, metrics, () -> {
            if (metrics.waiting.get() >= config.maxQueue()) {
                throw reject(EngineException.Kind.OVERLOADED, "the queue is full (" + config.maxQueue()
                        + " requests waiting); retry later");
            }
        }, () -> {
            metrics.waiting.incrementAndGet();
            inbox.add(r);
        });
        wake();
        return r;
    }

    private EngineException.Rejected reject(EngineException.Kind kind, String message) {
        return Lifecycle.reject(metrics, kind, message);
    }

    @Override
    public void shutdown(long graceMillis) throws InterruptedException {
        lifecycle.beginShutdown(graceMillis);
        wake();
        lifecycle.awaitAllEnded();
    }

    @Override
    public void close() {
        boolean interrupted = false;
        try {
            shutdown(0);
        } catch (InterruptedException e) {
            interrupted = true;
        }
        closed = true;
        wake();
        if (Thread.currentThread() != scheduler) {
            while (true) {
                try {
                    scheduler.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        pool.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The live picture for {@code GET /v1/engine}: one scheduler worker, not pinned. */
    public EngineStatus status() {
        return new EngineStatus("colocated", dev.tandem.kernels.IntKernels.choice(), null,
                java.util.List.of(new EngineStatus.Worker("scheduler", config.threads(), java.util.List.of(), false,
                        metrics.batchSize.get())),
                metrics.waiting.get(), metrics.running.get(), metrics.kvUsed.get(), kv.pages);
    }

    /** Whether shutdown has begun (new requests are refused). */
    boolean shuttingDown() {
        return lifecycle.shuttingDown();
    }

    /** KV pages held by requests now (the {@code tandem_kv_blocks_used} gauge). */
    int kvPagesUsed() {
        return metrics.kvUsed.get();
    }

    /** KV pages in the pool. */
    int kvPagesTotal() {
        return kv.pages;
    }

    /** Requests admitted now (the {@code tandem_requests_running} gauge). */
    int runningCount() {
        return metrics.running.get();
    }

    private void wake() {
        LockSupport.unpark(scheduler);
    }

    // ---- the scheduler thread ----

    private void run() {
        while (!closed) {
            try {
                step();
            } catch (Throwable t) { // a bug outside any one request: fail everyone rather than hang them
                LOG.log(System.Logger.Level.ERROR, "scheduler step failed; failing all live requests", t);
                failEverything(new EngineException(EngineException.Kind.INTERNAL, "engine failure: " + t, t));
            }
        }
        drainInbox();
        cancelEverything();
    }

    /** One iteration: intake and cancellations, admission, one prefill chunk, one decode step. */
    private void step() {
        drainInbox();
        if (lifecycle.graceOver()) {
            cancelEverything();
        }
        reapCancelled();
        admit();
        prefillOneChunk();
        decodeStep();
        compactLive();
        if (liveCount == 0 && waiting.isEmpty() && inbox.isEmpty()) {
            metrics.batchSize.set(0);
            LockSupport.parkNanos(this, lifecycle.boundPark(IDLE_PARK_NANOS));
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
                metrics.waiting.decrementAndGet();
                end(r, FinishReason.CANCELLED, null);
            }
        }
        for (int i = 0; i < liveCount; i++) {
            if (live[i].cancelRequested) {
                end(live[i], FinishReason.CANCELLED, null);
            }
        }
        compactLive();
    }

    private void admit() {
        while (!waiting.isEmpty() && liveCount < live.length) {
            ActiveRequest r = waiting.peekFirst();
            Sequence s = freeSeqs[freeSeqCount - 1];
            int cached = kv.attachPrefix(s, r.prompt, (r.prompt.length - 1) / PAGE_SIZE); // prefix caching, as in the split engine
            if (!kv.reserve(s, r.positions())) {
                kv.release(s);
                return; // the oldest waits for pages; later ones wait behind it (no overtaking)
            }
            r.prefilled = cached;
            freeSeqs[--freeSeqCount] = null;
            waiting.pollFirst();
            metrics.waiting.decrementAndGet();
            metrics.running.incrementAndGet();
            metrics.kvUsed.set(kv.pages - kv.freePages());
            r.seq = s;
            try {
                r.sampler = new Sampler(r.request.sampling(), vocab);
                for (int t : r.prompt) {
                    r.sampler.accept(t);
                }
                r.decoder = new StreamingDecoder(tokenizer);
                r.stops = new StopMatcher(r.request.stop());
            } catch (RuntimeException e) {
                end(r, null, internal("admission failed", e)); // returns the pages just reserved
                continue;
            }
            live[liveCount++] = r;
        }
    }

    /**
     * One prefill chunk: of the prompts that complete within half a chunk, the shortest (a short
     * chat turn is not queued behind a long prompt — the split engine's prefill pool orders its
     * steps the same way); else the oldest prompt's next chunk.
     */
    private void prefillOneChunk() {
        ActiveRequest r = null, shortest = null;
        int half = Math.max(1, config.prefillChunk() / 2);
        for (int i = 0; i < liveCount; i++) {
            ActiveRequest q = live[i];
            if (q.ended || q.prefillDone()) {
                continue;
            }
            if (r == null) {
                r = q;
            }
            int left = q.prompt.length - q.prefilled;
            if (left <= half && (shortest == null || left < shortest.prompt.length - shortest.prefilled)) {
                shortest = q;
            }
        }
        if (shortest != null) {
            r = shortest;
        }
        if (r == null) {
            return;
        }
        if (r.prefillStartNanos == 0) {
            r.prefillStartNanos = System.nanoTime();
            EngineMetrics.record(metrics.queue, r.prefillStartNanos - r.arrivalNanos);
            metrics.promptTokensCached.increment(r.prefilled);
        }
        int n = Math.min(config.prefillChunk(), r.prompt.length - r.prefilled);
        boolean last = r.prefilled + n == r.prompt.length;
        try {
            forward.prefill(r.seq, r.prompt, r.prefilled, n, last ? logits : null, false);
        } catch (RuntimeException e) {
            end(r, null, internal("prefill failed", e));
            return;
        }
        r.prefilled += n;
        metrics.promptTokens.increment(n);
        if (last) {
            kv.publishPrefix(r.seq, r.prompt, r.prompt.length / PAGE_SIZE);
            deliver(r, 0, System.nanoTime());
        }
    }

    private void decodeStep() {
        boolean graceOver = lifecycle.graceOver();
        int n = 0;
        for (int i = 0; i < liveCount; i++) {
            ActiveRequest r = live[i];
            if (!r.ended && (r.cancelRequested || graceOver)) { // e.g. cancelled from within onToken of a prefill's first token
                end(r, FinishReason.CANCELLED, null);
            } else if (!r.ended && r.pendingToken >= 0) {
                batchReq[n] = r;
                batchSeq[n] = r.seq;
                batchTok[n] = r.pendingToken;
                n++;
            }
        }
        metrics.batchSize.set(n);
        if (n == 0) {
            return;
        }
        try {
            forward.decode(batchSeq, batchTok, n, logits);
        } catch (RuntimeException e) {
            EngineException err = internal("decode step failed", e);
            for (int i = 0; i < n; i++) {
                end(batchReq[i], null, err);
            }
            clearBatch(n);
            return;
        }
        long now = System.nanoTime();
        for (int i = 0; i < n; i++) {
            deliver(batchReq[i], i * vocab, now);
        }
        clearBatch(n);
    }

    private void clearBatch(int n) {
        for (int i = 0; i < n; i++) {
            batchReq[i] = null;
            batchSeq[i] = null;
        }
    }

    /** Samples the next token of {@code r} from the logits row at {@code offset} and hands it on (see {@link Delivery#deliver}). */
    private void deliver(ActiveRequest r, int offset, long now) {
        delivery.deliver(r, logits, offset, now);
    }

    private static EngineException internal(String what, RuntimeException e) {
        return Delivery.internal(what, e);
    }

    /**
     * The one terminal transition: returns the request's pages and slot, counts it, then tells its
     * sink — {@code onFinish(reason)} when {@code error} is null, else {@code onError(error)}.
     * A request already ended is left alone. The caller removes it from {@code live} or {@code waiting}.
     */
    private void end(ActiveRequest r, FinishReason reason, EngineException error) {
        if (r.ended) {
            return;
        }
        r.ended = true;
        if (r.seq != null) {
            kv.release(r.seq);
            freeSeqs[freeSeqCount++] = r.seq;
            r.seq = null;
            metrics.kvUsed.set(kv.pages - kv.freePages());
            metrics.running.decrementAndGet();
        }
        delivery.notifyEnd(r, reason, error);
        lifecycle.ended();
    }

    /** Drops ended requests from {@code live}, keeping the rest in admission order. */
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

    private void cancelEverything() {
        while (!waiting.isEmpty()) {
            metrics.waiting.decrementAndGet();
            end(waiting.pollFirst(), FinishReason.CANCELLED, null);
        }
        for (int i = 0; i < liveCount; i++) {
            end(live[i], FinishReason.CANCELLED, null);
        }
        compactLive();
    }

    private void failEverything(EngineException error) {
        drainInbox();
        while (!waiting.isEmpty()) {
            metrics.waiting.decrementAndGet();
            end(waiting.pollFirst(), null, error);
        }
        for (int i = 0; i < liveCount; i++) {
            end(live[i], null, error);
        }
        compactLive();
    }
}
