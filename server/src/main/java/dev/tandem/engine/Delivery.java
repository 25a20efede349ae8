package dev.tandem.engine;

import dev.tandem.tokenizer.Tokenizer;

/**
 * What both engines do with a row of logits and with a request's end, in one place: sample the
 * next token, turn it into output, record latency meters, call the sink; and the terminal call
 * to the sink. Which thread may do this is the caller's rule (the request's owner).
 */
final class Delivery {
    private static final System.Logger LOG = System.getLogger(Delivery.class.getName());

    /** The engine's one terminal transition (frees what the request holds, then calls {@link #notifyEnd}). */
    @FunctionalInterface
    interface Ending {
        void end(ActiveRequest r, FinishReason reason, EngineException error);
    }

    private final Tokenizer tokenizer;
    private final int sampleVocab;   // logits a token is drawn from: min(model, tokenizer) vocabulary
    private final EngineMetrics metrics;
    private final Ending ending;

    Delivery(Tokenizer tokenizer, int sampleVocab, EngineMetrics metrics, Ending ending) {
        this.tokenizer = tokenizer;
        this.sampleVocab = sampleVocab;
        this.metrics = metrics;
        this.ending = ending;
    }

    /**
     * Samples the next token of {@code r} from {@code logits[offset ..]} and hands it to the sink;
     * ends the request when that token finishes it, or when sampling or the sink fails. Otherwise
     * the token becomes {@code r.pendingToken}, to feed at the next decode step.
     */
    void deliver(ActiveRequest r, float[] logits, int offset, long now) {
        int tok;
        Logprobs lp;
        try {
            tok = r.sampler.sample(logits, offset, sampleVocab);
            lp = r.request.logprobs() ? r.logprobs(logits, offset, sampleVocab, tok) : null;
        } catch (RuntimeException e) {
            ending.end(r, null, internal("sampling failed", e));
            return;
        }
        deliverGiven(r, tok, lp, now);
    }

    /**
     * Hands on token {@code tok} of {@code r}, already chosen (by {@link #deliver}, or sampled on
     * another node of a cluster), with its log-probabilities {@code lp} (null when not asked for):
     * the sampler accepts it, then as {@link #deliver}.
     */
    void deliverGiven(ActiveRequest r, int tok, Logprobs lp, long now) {
        try {
            r.sampler.accept(tok);
            r.take(tok, tokenizer);
        } catch (RuntimeException e) {
            ending.end(r, null, internal("sampling or decoding text failed", e));
            return;
        }
        metrics.generationTokens.increment();
        if (r.generated == 1) {
            EngineMetrics.record(metrics.prefill, now - r.prefillStartNanos);
            EngineMetrics.record(metrics.timeToFirstToken, now - r.arrivalNanos);
        } else {
            EngineMetrics.record(metrics.interToken, now - r.lastTokenNanos);
        }
        r.lastTokenNanos = now;
        try {
            r.sink.onToken(tok, r.text, lp);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "token sink threw; ending its request as failed: " + e);
            ending.end(r, null, new EngineException(EngineException.Kind.INTERNAL, "the token sink failed: " + e, e));
            return;
        }
        r.text = null;
        if (r.finish != null) {
            ending.end(r, r.finish, null);
        } else {
            r.pendingToken = tok;
        }
    }

    /**
     * The sink's half of a request's end, after the engine has freed what it held: counts the
     * terminal state, then calls {@code onFinish(reason)} when {@code error} is null, else
     * {@code onError(error)}. A sink that throws here is logged and ignored.
     */
    void notifyEnd(ActiveRequest r, FinishReason reason, EngineException error) {
        r.sampler = null;
        r.decoder = null;
        metrics.ended(error != null, reason, System.nanoTime() - r.arrivalNanos);
        try {
            if (error != null) {
                r.sink.onError(error);
            } else {
                r.sink.onFinish(reason, new Usage(r.prompt.length, r.generated));
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "token sink threw from its terminal call (ignored): " + e);
        }
    }

    /** Logs {@code e} and wraps it as an INTERNAL engine error naming {@code what}. */
    static EngineException internal(String what, Throwable e) {
        LOG.log(System.Logger.Level.ERROR, what, e);
        return new EngineException(EngineException.Kind.INTERNAL, what + ": " + e.getMessage(), e);
    }
}
