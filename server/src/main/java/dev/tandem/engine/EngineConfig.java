package dev.tandem.engine;

import dev.tandem.model.KvCache;

/**
 * The engine's limits and sizes, built once from the command line.
 *
 * @param modelId       the name clients use for the model ({@code /v1/models})
 * @param threads       compute threads
 * @param maxRunning    sequences decoded together at most (the decode batch)
 * @param prefillChunk  prompt tokens per prefill step at most
 * @param contextLength positions one sequence may use at most (≤ the model's context)
 * @param kvPositions   total KV cache budget, in positions, shared by all sequences
 * @param maxQueue      requests waiting for admission at most; beyond it, submit is rejected (429)
 * @param kvType        the element type of the KV cache ({@code --kv-type})
 */
public record EngineConfig(String modelId, int threads, int maxRunning, int prefillChunk, int contextLength,
                           int kvPositions, int maxQueue, KvCache.Type kvType) {
    public EngineConfig {
        if (threads < 1 || maxRunning < 1 || prefillChunk < 1 || contextLength < 2 || kvPositions < contextLength || maxQueue < 0
                || kvType == null) {
            throw new IllegalArgumentException("invalid engine configuration: " + this);
        }
    }

    /** An F32 KV cache. */
    public EngineConfig(String modelId, int threads, int maxRunning, int prefillChunk, int contextLength,
                        int kvPositions, int maxQueue) {
        this(modelId, threads, maxRunning, prefillChunk, contextLength, kvPositions, maxQueue, KvCache.Type.F32);
    }
}
