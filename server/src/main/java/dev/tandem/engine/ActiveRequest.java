package dev.tandem.engine;

import dev.tandem.model.KvCache;
import dev.tandem.model.Sampler;
import dev.tandem.model.SamplingLogprobs;
import dev.tandem.model.Sequence;
import dev.tandem.tokenizer.StreamingDecoder;
import dev.tandem.tokenizer.Tokenizer;

/**
 * One accepted request as the scheduler tracks it, and the handle its submitter holds. Progress is
 * counters, not phase flags: {@code prefilled} of the prompt's tokens are in the KV cache, and
 * {@code generated} tokens have been sampled; {@code pendingToken} is the last one, still to be
 * fed to the model. Everything but {@link #cancelRequested} belongs to the scheduler thread.
 *
 * <p>Turning a sampled token into output ({@link #take}) is here: text through the streaming
 * decoder and the stop matcher, and the finish reason.
 */
final class ActiveRequest implements RequestHandle {
    final GenerationRequest request;
    final TokenSink sink;
    final int[] prompt;          // [promptTokens] the request's prompt (not copied; the request is the caller's)
    final int maxTokens;         // clamped so prompt + maxTokens ≤ the context length
    final long arrivalNanos;
    private final Runnable wake; // unparks the scheduler

    volatile boolean cancelRequested;

    // Scheduler-thread state (in the split engine: the state of whichever worker owns the request now).
    Sequence seq;                // KV page table while admitted, else null
    KvCache seqKv;               // split engine: the cache seq's pages belong to
    Sequence spare;              // split engine, copy migration: the decode-side page table reserved at admission, until migrated
    int sharedCopied;            // split engine, copy migration, n > 1: positions of the prompt's full pages already copied into spare (shared by the choices)
    ActiveRequest[] followers;   // split engine, n > 1: the other choices, sharing this (the leader's) prompt; else null
    Sampler sampler;
    StreamingDecoder decoder;
    StopMatcher stops;
    int prefilled;               // prompt tokens in the KV cache
    int generated;               // tokens sampled (the end-of-generation token included)
    int pendingToken = -1;       // last sampled token, to feed at the next decode step; -1 before the first
    long prefillStartNanos;
    long migrationStartNanos;    // split engine
    boolean holdsSlot;           // split engine: counted in the running slots
    SequenceExport export;       // split engine, cluster prefill node: ship the sequence there instead of decoding here; else null
    SequenceImport imported;     // split engine, cluster decode node: the prompt's K/V come from another node; else null
    long lastTokenNanos;
    boolean ended;

    // The outcome of the last take(): text to deliver with the token, and the finish reason or null.
    String text;
    FinishReason finish;

    ActiveRequest(GenerationRequest request, TokenSink sink, int maxTokens, long arrivalNanos, Runnable wake) {
        this.request = request;
        this.sink = sink;
        this.prompt = request.promptTokens();
        this.maxTokens = maxTokens;
        this.arrivalNanos = arrivalNanos;
        this.wake = wake;
    }

    @Override
    public void cancel() {
        cancelRequested = true;
        wake.run();
    }

    /** KV positions the request needs in the worst case: the prompt and every generated token but the last. */
    int positions() {
        return prompt.length + maxTokens - 1;
    }

    boolean prefillDone() {
        return prefilled == prompt.length;
    }

    /**
     * Records sampled token {@code tok}: sets {@link #text} to what to deliver with it and
     * {@link #finish} to the reason the request ends with it, or null.
     * <ul>
     *   <li>End of generation (unless {@code ignoreEos}): STOP; the token's own text is never
     *       shown, but any held-back text is released with it. It counts as a completion token.</li>
     *   <li>A stop string completed: STOP; the text before it is delivered, the stop string never.</li>
     *   <li>The {@code maxTokens}-th token: LENGTH; held-back text is released with it.</li>
     * </ul>
     */
    void take(int tok, Tokenizer tokenizer) {
        generated++;
        if (decoder == null) { // token-only mode (a test of the engine's own allocation): no text at all
            text = "";
            finish = !request.ignoreEos() && tokenizer.isEndOfGeneration(tok) ? FinishReason.STOP
                    : generated == maxTokens ? FinishReason.LENGTH : null;
            return;
        }
        if (!request.ignoreEos() && tokenizer.isEndOfGeneration(tok)) {
            String out = stops.offer(decoder.flush());
            text = stops.stopped() ? out : concat(out, stops.drain());
            finish = FinishReason.STOP;
            return;
        }
        String piece = decoder.push(tok);
        boolean last = generated == maxTokens;
        if (last) {
            piece = concat(piece, decoder.flush());
        }
        String out = stops.offer(piece);
        if (stops.stopped()) {
            text = out;
            finish = FinishReason.STOP;
        } else if (last) {
            text = concat(out, stops.drain());
            finish = FinishReason.LENGTH;
        } else {
            text = out;
            finish = null;
        }
    }

    /** Log-probabilities of {@code tok} in the raw distribution of the row {@code logits[offset, offset + n)}. */
    Logprobs logprobs(float[] logits, int offset, int n, int tok) {
        double lse = SamplingLogprobs.logSumExp(logits, offset, n);
        float lp = SamplingLogprobs.logprob(logits, offset, tok, lse);
        int k = Math.min(request.topLogprobs(), n);
        int[] ids = new int[k];
        float[] values = new float[k];
        SamplingLogprobs.topLogprobs(logits, offset, n, lse, k, ids, values);
        return new Logprobs(lp, ids, values);
    }

    private static String concat(String a, String b) {
        return b.isEmpty() ? a : a.isEmpty() ? b : a + b;
    }
}
