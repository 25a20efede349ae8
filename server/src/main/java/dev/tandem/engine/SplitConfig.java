package dev.tandem.engine;

import java.util.List;

/**
 * What the split engine adds to {@link EngineConfig} (whose {@code threads} it does not use).
 *
 * @param prefillThreads compute threads of the prefill pool ({@code --prefill-threads})
 * @param decodeThreads  compute threads of the decode worker, its own thread included ({@code --decode-threads})
 * @param decodeCpus     CPUs to pin the decode threads to ({@code --decode-cpus}); empty: not pinned
 * @param migration      how a prefilled sequence reaches the decode worker ({@code --kv-migration})
 */
public record SplitConfig(int prefillThreads, int decodeThreads, List<Integer> decodeCpus, KvMigration.Strategy migration) {
    public SplitConfig {
        decodeCpus = List.copyOf(decodeCpus);
        if (prefillThreads < 1 || decodeThreads < 1 || migration == null) {
            throw new IllegalArgumentException("invalid split configuration: " + prefillThreads + " prefill threads, "
                    + decodeThreads + " decode threads, migration " + migration);
        }
        for (int cpu : decodeCpus) {
            if (cpu < 0) {
                throw new IllegalArgumentException("decode CPU " + cpu + " is negative");
            }
        }
    }

    /** One prefill thread, one decode thread, unpinned, hand-off migration. */
    public static SplitConfig defaults() {
        return new SplitConfig(1, 1, List.of(), KvMigration.Strategy.HANDOFF);
    }
}
