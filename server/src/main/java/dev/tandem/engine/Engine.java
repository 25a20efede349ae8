package dev.tandem.engine;

/**
 * The only door between the HTTP front end and the engine (DESIGN.md). Implementations: the
 * split engine (prefill pool → KV migration → pinned decode worker, the default) and the
 * colocated engine (one pool interleaving prefill chunks and decode steps); see {@link Engines}.
 */
public interface Engine extends AutoCloseable {

    /**
     * Queues a request. Returns at once; tokens and exactly one terminal call reach {@code sink}
     * from engine threads.
     *
     * @throws EngineException.Rejected when the queue is full (429), the request cannot fit or is
     *         invalid (400), or shutdown has begun (503); the sink is then never called
     */
    RequestHandle submit(GenerationRequest request, TokenSink sink);

    /** Name, context length, vocabulary and template of the served model. */
    ModelInfo model();

    /**
     * Stops accepting requests, lets running ones finish for up to {@code graceMillis}, then
     * cancels the rest; returns when every request has reached its terminal state.
     */
    void shutdown(long graceMillis) throws InterruptedException;

    /** {@link #shutdown} with no grace. */
    @Override
    void close();
}
