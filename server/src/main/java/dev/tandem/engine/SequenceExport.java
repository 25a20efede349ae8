package dev.tandem.engine;

import dev.tandem.model.KvCache;
import dev.tandem.model.Sequence;

/**
 * Prefill node of a cluster: where a request's prefilled sequence goes instead of this process's
 * decode worker. Set per request ({@link SplitEngine#submitExport}); called once, on the prefill
 * thread, after the first token has gone to the request's sink. It must copy out everything it
 * needs before returning (it may queue network writes): the request then ends here and its pages
 * return to the pool.
 */
public interface SequenceExport {
    /**
     * @param kv       the cache holding {@code seq}
     * @param seq      the prompt's K/V ({@code seq.length()} positions), or null when the request
     *                 already ended with its first token (nothing to ship but that token)
     * @param rngState the sampler's stream after the first token ({@code Sampler#rngState})
     * @throws RuntimeException when the sequence cannot be shipped; the request then fails
     */
    void export(KvCache kv, Sequence seq, long rngState);

    /**
     * Prefill thread, after a chunk that leaves the prompt unfinished: {@code seq.length()}
     * positions are computed and will not change, so they may be shipped now, overlapping the
     * transfer with the rest of the prefill. The default ships nothing early.
     *
     * @throws RuntimeException when shipping fails; the request then fails
     */
    default void progress(KvCache kv, Sequence seq) {
    }
}
