package dev.tandem.engine;

import java.util.List;

/**
 * The live picture of an engine for {@code GET /v1/engine}: its workers (threads, CPUs, current
 * batch), queue depth and KV usage. A snapshot of gauges, read without stopping the engine.
 *
 * @param mode      {@code split} or {@code colocated}
 * @param kernels   the matrix kernels in force ({@code --kernels}): {@code f32}, or {@code q8, } and how they run
 * @param migration {@code handoff} or {@code copy} (split), else null
 * @param waiting   requests accepted and waiting for admission
 * @param running   requests admitted (prefilling, migrating or decoding)
 */
public record EngineStatus(String mode, String kernels, String migration, List<Worker> workers, int waiting, int running,
                           int kvBlocksUsed, int kvBlocksTotal) {
    public EngineStatus {
        workers = List.copyOf(workers);
    }

    /**
     * @param cpus  CPUs its threads may run on (empty when unknown)
     * @param batch sequences in its current step: prompts in the last prefill step, rows of the last decode step
     */
    public record Worker(String name, int threads, List<Integer> cpus, boolean pinned, int batch) {
        public Worker {
            cpus = List.copyOf(cpus);
        }
    }
}
