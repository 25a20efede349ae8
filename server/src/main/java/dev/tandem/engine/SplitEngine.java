package dev.tandem.engine;

import dev.tandem.model.KvCache;
import dev.tandem.model.Model;
import dev.tandem.model.ModelConfig;
import dev.tandem.model.Sequence;
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

    final Lifecycle lifecycle = new Lifecycle();
    volatile boolean closed;

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
        KvCache decodeKv = KvCache.forPositions(c, config.kvPositions(), PAGE_SIZE, config.kvType());
        KvCache prefillKv = split.migration() == KvMigration.Strategy.HANDOFF ? decodeKv
                : KvCache.forPositions(c, config.kvPositions(), PAGE_SIZE, config.kvType());
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
        Objects.requireNonNull(sink, "sink");
        return submit(request, List.of(sink));
    }

    /**
     * {@code n = sinks.size()} choices of one request (OpenAI's {@code n}): the prompt is prefilled
     * once, and choice {@code i} samples with seed {@code request.sampling().seed() + i} into
     * {@code sinks.get(i)}. The choices share the prompt's full KV pages (reference-counted; in copy
     * mode the decode-side pages, copied once; the last, partly filled page is copied per choice:
     * copy on write).
     * Admission takes all n at once (n running slots, n queue places); the handle cancels them all.
     * Each choice ends on its own, exactly once.
     *
     * @throws EngineException.Rejected as {@link #submit(GenerationRequest, TokenSink)}; also when n
     *         exceeds {@code maxRunning} (400)
     */
    public RequestHandle submit(GenerationRequest request, List<TokenSink> sinks) {
        return submit(request, sinks, null, null);
    }

    /**
     * Cluster prefill node: admits and prefills {@code request} as {@link #submit(GenerationRequest, TokenSink)},
     * delivers its first token to {@code sink}, then hands the sequence to {@code export} instead of
     * the local decode worker and ends it here ({@code onFinish(STOP)} after the export; the
     * decode node continues it).
     */
    public RequestHandle submitExport(GenerationRequest request, TokenSink sink, SequenceExport export) {
        return submit(request, List.of(Objects.requireNonNull(sink, "sink")), Objects.requireNonNull(export, "export"), null);
    }

    /**
     * Cluster decode node: admits {@code request} as {@link #submit(GenerationRequest, TokenSink)}
     * (slot and pages reserved, or a rejection), then waits, without prefilling, for its K/V and
     * first token to arrive through {@code imported} (call {@link #importArrived()} when they have).
     */
    public RequestHandle submitImport(GenerationRequest request, TokenSink sink, SequenceImport imported) {
        return submit(request, List.of(Objects.requireNonNull(sink, "sink")), null, Objects.requireNonNull(imported, "imported"));
    }

    /** A {@link SequenceImport} has arrived (or failed): wakes the thread that adopts it. */
    public void importArrived() {
        prefill.wake();
    }

    /** The decode-side KV cache's page size, layers, row width and element type (for the cluster handshake), and free pages. */
    public KvCache decodeKv() {
        return migration.decodeKv;
    }

    /** Sequences in the last decode step. */
    public int batchSize() {
        return metrics.batchSize.get();
    }

    /** Requests accepted and not yet admitted. */
    public int waitingCount() {
        return metrics.waiting.get();
    }

    private RequestHandle submit(GenerationRequest request, List<TokenSink> sinks, SequenceExport export,
                                 SequenceImport imported) {
        Objects.requireNonNull(request, "request");
        int n = sinks.size();
        if (n < 1) {
            throw new IllegalArgumentException("at least one sink");
        }
        long now = System.nanoTime();
        String problem = RequestChecks.problem(request, config.contextLength(), vocab);
        if (problem != null) {
            throw reject(EngineException.Kind.INVALID_REQUEST, problem);
        }
        if (n > config.maxRunning()) {
            throw reject(EngineException.Kind.INVALID_REQUEST, "n = " + n + " choices exceed the " + config.maxRunning()
                    + " sequences the engine runs at once");
        }
        int maxTokens = RequestChecks.maxTokens(request, config.contextLength());
        ActiveRequest[] members = new ActiveRequest[n];
        for (int i = 0; i < n; i++) {
            GenerationRequest ri = i == 0 ? request : new GenerationRequest(request.promptTokens(),
                    request.sampling().withSeed(request.sampling().seed() + i), request.maxTokens(), request.stop(),
                    request.ignoreEos(), request.logprobs(), request.topLogprobs());
            members[i] = new ActiveRequest(ri, Objects.requireNonNull(sinks.get(i), "sink"), maxTokens, now, this::wakeAll);
        }
        ActiveRequest r = members[0];
        r.export = export;
        r.imported = imported;
        if (n > 1) {
            r.followers = java.util.Arrays.copyOfRange(members, 1, n);
        }
        long pagesNeeded = groupPages(r.positions(), r.prompt.length, n);
        KvCache kv = migration.decodeKv;
        if (pagesNeeded > kv.pages) { // unreachable for n = 1 while kvPositions ≥ contextLength
            throw reject(EngineException.Kind.INVALID_REQUEST, "the request needs " + pagesNeeded
                    + " KV pages of " + PAGE_SIZE + " positions; the cache holds " + kv.pages);
        }
        lifecycle.admit(n, metrics, () -> {
            if (metrics.waiting.get() + n > config.maxQueue()) {
                throw reject(EngineException.Kind.OVERLOADED, "the queue is full (" + config.maxQueue()
                        + " requests waiting); retry later");
            }
        }, () -> {
            metrics.waiting.addAndGet(n);
            prefill.inbox.add(r);
        });
        prefill.wake();
        if (n == 1) {
            return r;
        }
        return () -> {
            for (ActiveRequest m : members) {
                m.cancel();
            }
        };
    }

    /** Decode-side KV pages n choices of {@code positions} positions need, the prompt's full pages shared. */
    private long groupPages(int positions, int promptLength, int n) {
        long each = (positions + PAGE_SIZE - 1) / PAGE_SIZE;
        long shared = promptLength / PAGE_SIZE;
        return each + (n - 1) * (each - shared);
    }

    private EngineException.Rejected reject(EngineException.Kind kind, String message) {
        return Lifecycle.reject(metrics, kind, message);
    }

    @Override
    public void shutdown(long graceMillis) throws InterruptedException {
        lifecycle.beginShutdown(graceMillis);
        wakeAll();
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
        wakeAll();
        interrupted |= prefill.join();
        interrupted |= decode.join();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether shutdown has begun (new requests are refused). */
    boolean shuttingDown() {
        return lifecycle.shuttingDown();
    }

    /** Whether the shutdown grace has run out (everything still live is to be cancelled). */
    boolean graceOver() {
        return lifecycle.graceOver();
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
        return new EngineStatus("split", dev.tandem.kernels.IntKernels.choice(), split.migration().name().toLowerCase(java.util.Locale.ROOT),
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

    /** Refreshes the {@code tandem_kv_blocks_used} gauge (after admission, migration, a request's end). */
    void updateKvUsed() {
        KvCache p = migration.prefillKv, d = migration.decodeKv;
        int used = d.pages - d.freePages() + (p == d ? 0 : p.pages - p.freePages());
        metrics.kvUsed.set(used);
    }

    /**
     * Prefill thread: takes a running slot per choice and reserves the pages of the request (and of
     * its other choices, n > 1). @return false, changing nothing, when slots or pages are short
     */
    boolean admit(ActiveRequest r) {
        int n = r.followers == null ? 1 : 1 + r.followers.length;
        if (freeSlots.get() < n) {
            return false;
        }
        if (!reserve(r, null)) {
            return false;
        }
        if (r.followers != null) {
            for (int i = 0; i < r.followers.length; i++) {
                if (!reserve(r.followers[i], r)) {
                    for (int j = i - 1; j >= 0; j--) {
                        unreserve(r.followers[j]);
                    }
                    unreserve(r);
                    return false;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            ActiveRequest m = i == 0 ? r : r.followers[i - 1];
            m.holdsSlot = true;
        }
        freeSlots.addAndGet(-n);
        metrics.running.addAndGet(n);
        updateKvUsed();
        return true;
    }

    /**
     * Reserves {@code r}'s pages. A leader (or a single request) first attaches the pages of the
     * longest indexed prefix of its prompt (prefix caching, {@link KvCache#attachPrefix}; at least
     * the last prompt token is always computed, for its logits) and starts its prefill after them.
     * A follower (another choice of {@code leader}'s request) shares the leader's full prompt pages
     * — in copy mode the leader's decode-side ones — and reserves the rest; in copy mode it needs
     * no prefill-side pages (its prompt is copied from the leader's).
     */
    private boolean reserve(ActiveRequest r, ActiveRequest leader) {
        KvCache p = migration.prefillKv, d = migration.decodeKv;
        Sequence s = new Sequence(config.contextLength(), PAGE_SIZE);
        if (p == d) {
            int cached = 0;
            if (leader != null) {
                d.share(leader.seq, s, r.prompt.length / PAGE_SIZE);
            } else if (r.imported == null) { // an imported sequence's K/V all come from the prefill node
                cached = d.attachPrefix(s, r.prompt, (r.prompt.length - 1) / PAGE_SIZE);
            }
            if (!d.reserve(s, r.positions())) {
                d.release(s);
                return false;
            }
            r.seq = s;
            r.seqKv = d;
            r.prefilled = cached;
            return true;
        }
        if (leader != null) {
            d.share(leader.spare, s, r.prompt.length / PAGE_SIZE); // the choices' prompt pages cross into decode memory once
        }
        if (!d.reserve(s, r.positions())) {
            d.release(s);
            return false;
        }
        if (leader == null) {
            Sequence prompt = new Sequence(config.contextLength(), PAGE_SIZE);
            int cached = r.imported == null ? p.attachPrefix(prompt, r.prompt, (r.prompt.length - 1) / PAGE_SIZE) : 0;
            if (!p.reserve(prompt, r.prompt.length)) {
                p.release(prompt);
                d.release(s);
                return false;
            }
            r.seq = prompt;
            r.seqKv = p;
            r.prefilled = cached;
        }
        r.spare = s;
        return true;
    }

    private void unreserve(ActiveRequest r) {
        if (r.seq != null) {
            r.seqKv.release(r.seq);
            r.seq = null;
            r.seqKv = null;
        }
        if (r.spare != null) {
            migration.decodeKv.release(r.spare);
            r.spare = null;
        }
    }

    /** Hands on a token of {@code r} chosen elsewhere (see {@link Delivery#deliverGiven}). Called by the request's owner. */
    void deliverGiven(ActiveRequest r, int tok, Logprobs lp, long now) {
        delivery.deliverGiven(r, tok, lp, now);
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
        lifecycle.ended();
    }
}
