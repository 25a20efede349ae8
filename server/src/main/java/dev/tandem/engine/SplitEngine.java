package dev.tandem.engine;

import dev.tandem.model.KvCache;
import dev.tandem.model.Model;
import dev.tandem.model.ModelConfig;
import dev.tandem.tokenizer.ChatTemplate;
import dev.tandem.tokenizer.Tokenizer;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code --mode split} engine (DESIGN.md "The path of one request"): a {@link PrefillPool}
 * thread with its own compute pool admits requests and runs their prompts in chunks, samples each
 * request's first token, and migrates the sequence ({@link KvMigration}) through a bounded
 * lock-free {@link HandoffQueue} to the {@link DecodeWorker} thread, which has its own (optionally
 * pinned) compute pool and runs continuous batching over up to {@code maxRunning} sequences.
 *
 * <p>Admission is the colocated engine's: a bounded queue (full → {@code OVERLOADED}), a request
 * that can never fit → {@code INVALID_REQUEST}, and KV pages for prompt + maxTokens − 1 positions
 * reserved up front (in {@code copy} mode: the prompt in the prefill cache and the whole budget in
 * the decode cache), so nothing is ever preempted. At most {@code maxRunning} requests are admitted
 * at once (prefilling, migrating or decoding), so the hand-off queue and the decode batch never
 * overflow.
 *
 * <p>Ownership, not locks, makes every request end exactly once: a request belongs to the prefill
 * thread from submission until it is offered to the hand-off queue, then to the decode thread.
 * Only the owner reads its state or ends it; {@link RequestHandle#cancel} sets a volatile flag the
 * owner checks between chunks and between steps. Ending returns the request's pages to whichever
 * cache holds them (page allocation is synchronized inside {@link KvCache}, never called in a step).
 */
public final class SplitEngine implements Engine {
    static final int PAGE_SIZE = 16;
    static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    final EngineConfig config;
    final SplitConfig split;
    private final ModelInfo info;
    final Tokenizer tokenizer;
    final int vocab;
    final int sampleVocab;
    final boolean tokensOnly;   // test mode: no text decoding, to measure the engine's own allocation
    final EngineMetrics metrics;
    private final Delivery delivery;
    final KvMigration migration;
    final HandoffQueue<ActiveRequest> handoff;
    final AtomicInteger freeSlots;  // admitted requests at most: maxRunning

    private final Object admission = new Object();
    volatile boolean shuttingDown;
    volatile long deadlineNanos;
    volatile boolean closed;
    private final AtomicInteger outstanding = new AtomicInteger();
    private final Object allEnded = new Object();

    final PrefillPool prefill;
    final DecodeWorker decode;

    public SplitEngine(Model model, Tokenizer tokenizer, ChatTemplate template, EngineConfig config, SplitConfig split,
                       MeterRegistry registry) {
        this(model, tokenizer, template, config, split, registry, false);
    }

    /** @param tokensOnly test mode: tokens reach the sinks with empty text (no detokenizing, no stop strings) */
    SplitEngine(Model model, Tokenizer tokenizer, ChatTemplate template, EngineConfig config, SplitConfig split,
                MeterRegistry registry, boolean tokensOnly) {
        this.config = Objects.requireNonNull(config, "config");
        this.split = Objects.requireNonNull(split, "split");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.tokensOnly = tokensOnly;
        ModelConfig c = model.config();
        if (config.contextLength() > c.contextLength()) {
            throw new IllegalArgumentException("context length " + config.contextLength() + " exceeds the model's "
                    + c.contextLength());
        }
        this.info = new ModelInfo(config.modelId(), config.contextLength(), tokenizer, template);
        this.vocab = c.vocab();
        this.sampleVocab = Math.min(c.vocab(), tokenizer.vocabSize());
        KvCache decodeKv = KvCache.forPositions(c, config.kvPositions(), PAGE_SIZE);
        KvCache prefillKv = split.migration() == KvMigration.Strategy.HANDOFF ? decodeKv
                : KvCache.forPositions(c, config.kvPositions(), PAGE_SIZE);
        this.metrics = new EngineMetrics(registry, decodeKv.pages + (prefillKv == decodeKv ? 0 : prefillKv.pages));
        this.delivery = new Delivery(tokenizer, sampleVocab, metrics, this::end);
        this.migration = new KvMigration(split.migration(), prefillKv, decodeKv, registry);
        this.handoff = new HandoffQueue<>(config.maxRunning());
        this.freeSlots = new AtomicInteger(config.maxRunning());
        this.decode = new DecodeWorker(this, model, decodeKv);
        try {
            this.prefill = new PrefillPool(this, model, prefillKv);
        } catch (RuntimeException | OutOfMemoryError e) {
            decode.closePool();
            throw e;
        }
        decode.start();
        prefill.start();
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
        ActiveRequest r = new ActiveRequest(request, sink, maxTokens, now, this::wakeAll);
        KvCache kv = migration.decodeKv;
        if ((r.positions() + PAGE_SIZE - 1) / PAGE_SIZE > kv.pages) { // unreachable while kvPositions ≥ contextLength
            throw reject(EngineException.Kind.INVALID_REQUEST, "the request needs " + r.positions()
                    + " KV positions; the cache holds " + (long) kv.pages * PAGE_SIZE);
        }
        synchronized (admission) {
            if (shuttingDown) {
                throw reject(EngineException.Kind.SHUTTING_DOWN, "the server is shutting down");
            }
            if (metrics.waiting.get() >= config.maxQueue()) {
                throw reject(EngineException.Kind.OVERLOADED, "the queue is full (" + config.maxQueue()
                        + " requests waiting); retry later");
            }
            metrics.waiting.incrementAndGet();
            outstanding.incrementAndGet();
            prefill.inbox.add(r);
        }
        prefill.wake();
        return r;
    }

    private EngineException.Rejected reject(EngineException.Kind kind, String message) {
        metrics.rejected.increment();
        return new EngineException.Rejected(kind, message);
    }

    @Override
    public void shutdown(long graceMillis) throws InterruptedException {
        long grace = Math.min(TimeUnit.MILLISECONDS.toNanos(Math.max(0, graceMillis)), Long.MAX_VALUE / 4);
        synchronized (admission) {
            long d = System.nanoTime() + grace;
            if (!shuttingDown || d - deadlineNanos < 0) {
                deadlineNanos = d;
            }
            shuttingDown = true;
        }
        wakeAll();
        synchronized (allEnded) {
            while (outstanding.get() > 0) {
                allEnded.wait();
            }
        }
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
        wakeAll();
        interrupted |= prefill.join();
        interrupted |= decode.join();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether shutdown has begun (new requests are refused). */
    boolean shuttingDown() {
        return shuttingDown;
    }

    /** Whether the shutdown grace has run out (everything still live is to be cancelled). */
    boolean graceOver() {
        return shuttingDown && System.nanoTime() - deadlineNanos >= 0;
    }

    /** KV pages held by requests now, in both caches (the {@code tandem_kv_blocks_used} gauge). */
    int kvPagesUsed() {
        return metrics.kvUsed.get();
    }

    int kvPagesTotal() {
        return metrics.kvTotal.get();
    }

    /** Requests admitted now: prefilling, migrating or decoding. */
    int runningCount() {
        return metrics.running.get();
    }

    /** The CPUs the decode threads run on (after pinning, or the inherited set), for {@code /v1/engine}. */
    public List<Integer> decodeCpus() {
        return decode.cpus();
    }

    /** The live picture for {@code GET /v1/engine}: the prefill pool and the decode worker. */
    public EngineStatus status() {
        return new EngineStatus("split", split.migration().name().toLowerCase(java.util.Locale.ROOT),
                List.of(new EngineStatus.Worker("prefill", split.prefillThreads(), prefill.cpus(), prefill.pinned(),
                                prefill.lastStepPrompts),
                        new EngineStatus.Worker("decode", split.decodeThreads(), decode.cpus(), decode.pinned(),
                                metrics.batchSize.get())),
                metrics.waiting.get(), metrics.running.get(), metrics.kvUsed.get(), metrics.kvTotal.get());
    }

    /** Compute threads of the decode worker, its own thread first (e.g. to measure what they allocate). */
    Thread[] decodeThreads() {
        return decode.threads();
    }

    void wakeAll() {
        prefill.wake();
        decode.wake();
    }

    private void updateKvUsed() {
        KvCache p = migration.prefillKv, d = migration.decodeKv;
        int used = d.pages - d.freePages() + (p == d ? 0 : p.pages - p.freePages());
        metrics.kvUsed.set(used);
    }

    /** Prefill thread: takes a slot and reserves the request's pages. @return false, changing nothing, when either is short */
    boolean admit(ActiveRequest r) {
        if (freeSlots.get() == 0) {
            return false;
        }
        KvCache p = migration.prefillKv, d = migration.decodeKv;
        dev.tandem.model.Sequence s = new dev.tandem.model.Sequence(config.contextLength(), PAGE_SIZE);
        if (p == d) {
            if (!d.reserve(s, r.positions())) {
                return false;
            }
            r.seq = s;
            r.seqKv = d;
        } else {
            dev.tandem.model.Sequence target = new dev.tandem.model.Sequence(config.contextLength(), PAGE_SIZE);
            if (!d.reserve(target, r.positions())) {
                return false;
            }
            if (!p.reserve(s, r.prompt.length)) {
                d.release(target);
                return false;
            }
            r.seq = s;
            r.seqKv = p;
            r.spare = target;
        }
        freeSlots.decrementAndGet();
        r.holdsSlot = true;
        metrics.running.incrementAndGet();
        updateKvUsed();
        return true;
    }

    /** Samples the next token of {@code r} from {@code logits[offset ..]} and hands it on (see {@link Delivery#deliver}). Called by the request's owner. */
    void deliver(ActiveRequest r, float[] logits, int offset, long now) {
        delivery.deliver(r, logits, offset, now);
    }

    static EngineException internal(String what, Throwable e) {
        return Delivery.internal(what, e);
    }

    /**
     * The one terminal transition, called by the request's owner: returns its pages (in whichever
     * cache holds them) and its slot, counts it, then tells its sink. A request already ended is left alone.
     */
    void end(ActiveRequest r, FinishReason reason, EngineException error) {
        if (r.ended) {
            return;
        }
        r.ended = true;
        if (r.seq != null) {
            r.seqKv.release(r.seq);
            r.seq = null;
            r.seqKv = null;
        }
        if (r.spare != null) {
            migration.decodeKv.release(r.spare);
            r.spare = null;
        }
        if (r.holdsSlot) {
            r.holdsSlot = false;
            freeSlots.incrementAndGet();
            metrics.running.decrementAndGet();
            updateKvUsed();
            prefill.wake(); // a slot and pages are free: the head of the queue may be admitted
        }
        delivery.notifyEnd(r, reason, error);
        if (outstanding.decrementAndGet() == 0) {
            synchronized (allEnded) {
                allEnded.notifyAll();
            }
        }
    }
}
