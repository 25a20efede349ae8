package dev.tandem.engine;

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
 */
public record EngineConfig(String modelId, int threads, int maxRunning, int prefillChunk, int contextLength,
                           int kvPositions, int maxQueue) {
    public EngineConfig {
        if (threads < 1 || maxRunning < 1 || prefillChunk < 1 || contextLength < 2 || kvPositions < contextLength || maxQueue < 0) {
            throw new IllegalArgumentException("invalid engine configuration: " + this);
        }
    }
}
