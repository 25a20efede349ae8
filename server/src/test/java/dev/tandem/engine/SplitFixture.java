package dev.tandem.engine;

import dev.tandem.model.KvCache;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.List;

/** Split engines over an {@link EngineFixture}'s model, for tests. */
final class SplitFixture {
    private SplitFixture() {}

    /** 2 prefill threads, 1 decode thread, unpinned; {@code maxRunning} rows, context {@code ctx}, room for every running request. */
    static SplitEngine engine(EngineFixture fx, KvMigration.Strategy migration, int maxRunning, int chunk, int ctx, int maxQueue) {
        return engine(fx, migration, maxRunning, chunk, ctx, maxQueue, new SimpleMeterRegistry());
    }

    static SplitEngine engine(EngineFixture fx, KvMigration.Strategy migration, int maxRunning, int chunk, int ctx, int maxQueue,
                              MeterRegistry registry) {
        return engine(fx, migration, maxRunning, chunk, ctx, maxQueue, registry, KvCache.Type.F32);
    }

    static SplitEngine engine(EngineFixture fx, KvMigration.Strategy migration, int maxRunning, int chunk, int ctx, int maxQueue,
                              MeterRegistry registry, KvCache.Type kvType) {
        return new SplitEngine(fx.model, fx.tokenizer, null,
                new EngineConfig("test", 2, maxRunning, chunk, ctx, maxRunning * ctx, maxQueue, kvType),
                new SplitConfig(2, 1, List.of(), migration), registry);
    }

    /** The same limits as a colocated engine with 2 threads. */
    static ColocatedEngine colocated(EngineFixture fx, int maxRunning, int chunk, int ctx, int maxQueue) {
        return new ColocatedEngine(fx.model, fx.tokenizer, null,
                new EngineConfig("test", 2, maxRunning, chunk, ctx, maxRunning * ctx, maxQueue), new SimpleMeterRegistry());
    }
}
