package dev.tandem.engine;

import dev.tandem.model.KvCache;
import dev.tandem.model.Sequence;

/**
 * Decode node of a cluster: a request whose prompt was prefilled on another node. Set per request
 * ({@link SplitEngine#submitImport}); the request is admitted as usual (slot and KV pages
 * reserved) but never prefilled here: once {@link #arrived()}, the prefill thread writes the
 * imported K/V into the reserved pages, rebuilds the sampler from {@link #rngState()}, delivers
 * the first token sampled on the other node and hands the sequence to the decode worker.
 * Implementations are filled by a network thread and read by the prefill thread: {@link #arrived()}
 * and {@link #failure()} must be volatile reads that publish everything else.
 */
public interface SequenceImport {
    /** Whether the whole sequence is here (then the other accessors are valid). */
    boolean arrived();

    /** Why the transfer failed (the request then fails with it), or null. */
    String failure();

    /** The first generated token, sampled by the prefill node. */
    int firstToken();

    /** Its log-probabilities, or null when the request did not ask for them. */
    Logprobs firstLogprobs();

    /** The prefill node's sampler stream after the first token. */
    long rngState();

    /** Prefill thread: writes the prompt's K/V into {@code seq}'s reserved pages of {@code kv} and sets its length. */
    void writeInto(KvCache kv, Sequence seq);
}
