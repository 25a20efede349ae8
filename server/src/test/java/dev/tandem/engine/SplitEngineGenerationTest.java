package dev.tandem.engine;

import dev.tandem.model.KvCache;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the split engine generates: what a plain Forward loop gives, in both migrations, and bitwise what the colocated engine gives. */
class SplitEngineGenerationTest {
    private static EngineFixture fx;

    @BeforeAll
    static void load() {
        fx = new EngineFixture("llama31-q8_0.gguf"); // 512-entry vocabulary: the fastest reference model
    }

    @AfterAll
    static void unload() {
        if (fx != null) {
            fx.close();
        }
    }

    private static RecordingSink run(Engine engine, GenerationRequest r) throws Exception {
        RecordingSink sink = new RecordingSink();
        engine.submit(r, sink);
        return sink.await();
    }

    @Test
    void bothMigrationsGiveWhatAPlainForwardLoopGives() throws Exception {
        GenerationRequest greedy = EngineFixture.greedy(fx.prompt(40, 1), 24); // three chunks of ≤ 16
        GenerationRequest sampled = EngineFixture.sampled(fx.prompt(17, 2), 30, 42);
        int[] expectedGreedy = fx.direct(greedy), expectedSampled = fx.direct(sampled);
        for (KvMigration.Strategy m : KvMigration.Strategy.values()) {
            try (SplitEngine engine = SplitFixture.engine(fx, m, 4, 16, 128, 8)) {
                RecordingSink g = run(engine, greedy);
                assertArrayEquals(expectedGreedy, g.tokenArray(), () -> m + " greedy vs direct: " + g);
                assertEquals(FinishReason.LENGTH, g.reason, g::toString);
                assertEquals(new Usage(40, 24), g.usage);
                RecordingSink s = run(engine, sampled);
                assertArrayEquals(expectedSampled, s.tokenArray(), () -> m + " sampled vs direct: " + s);
                for (int max : new int[] {1, 2}) { // ends on the prefill thread / on the first decode step
                    RecordingSink x = run(engine, EngineFixture.greedy(fx.prompt(9, max), max));
                    assertEquals(max, x.tokens.size(), () -> m + " " + x);
                    assertEquals(FinishReason.LENGTH, x.reason);
                    assertEquals(1, x.terminalCalls.get());
                }
                assertEquals(0, engine.kvPagesUsed(), m + ": KV pages in use after the requests ended");
                assertEquals(0, engine.runningCount());
            }
        }
    }

    /**
     * {@code --kv-type f16}: the engine gives what a plain Forward loop over an F16 cache gives, in
     * both migrations (the copy moves half the bytes), and every page comes back.
     */
    @Test
    void anF16KvCacheGivesWhatAPlainF16ForwardLoopGives() throws Exception {
        GenerationRequest greedy = EngineFixture.greedy(fx.prompt(40, 3), 20);
        int[] expected = fx.direct(greedy, KvCache.Type.F16);
        for (KvMigration.Strategy m : KvMigration.Strategy.values()) {
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            try (SplitEngine engine = SplitFixture.engine(fx, m, 4, 16, 128, 8, registry, KvCache.Type.F16)) {
                RecordingSink g = run(engine, greedy);
                assertArrayEquals(expected, g.tokenArray(), () -> m + " F16 greedy vs direct F16: " + g);
                assertEquals(0, engine.kvPagesUsed(), m + ": KV pages in use after the request ended");
                long bytes = m == KvMigration.Strategy.COPY ? 2L * fx.model.config().layers() * 40 * fx.model.config().kvDim() * 2 : 0;
                assertTrue(registry.scrape().contains("tandem_kv_migration_bytes_total " + bytes + ".0"),
                        () -> m + ": expected " + bytes + " migrated bytes in\n" + registry.scrape());
            }
        }
    }

    /**
     * Prefix caching across requests: a second request whose prompt starts with the first one's
     * 37 tokens computes only what follows the shared full pages (32 positions reused, counted in
     * {@code tandem_prompt_tokens_cached_total}) and still gives what a plain Forward loop gives, in
     * both migrations and the colocated engine; afterwards every page is free or idle in the index.
     */
    @Test
    void aSharedPromptPrefixIsComputedOnce() throws Exception {
        int[] system = fx.prompt(37, 11);
        int[] a = java.util.Arrays.copyOf(system, 45), b = java.util.Arrays.copyOf(system, 50);
        int[] tailA = fx.prompt(9, 12), tailB = fx.prompt(14, 13);
        System.arraycopy(tailA, 1, a, 37, 8);
        System.arraycopy(tailB, 1, b, 37, 13);
        GenerationRequest ra = EngineFixture.greedy(a, 10), rb = EngineFixture.withLogprobs(EngineFixture.greedy(b, 10), 2);
        int[] expectedA = fx.direct(ra), expectedB = fx.direct(rb);
        for (String mode : List.of("handoff", "copy", "colocated")) {
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            try (Engine engine = mode.equals("colocated")
                    ? new ColocatedEngine(fx.model, fx.tokenizer, null, new EngineConfig("test", 2, 4, 16, 128, 512, 8), registry)
                    : SplitFixture.engine(fx, KvMigration.Strategy.parse(mode), 4, 16, 128, 8, registry)) {
                RecordingSink first = run(engine, ra);
                assertArrayEquals(expectedA, first.tokenArray(), () -> mode + ": first request vs direct: " + first);
                assertTrue(registry.scrape().contains("tandem_prompt_tokens_cached_total 0.0"), () -> mode + ":\n" + registry.scrape());
                RecordingSink second = run(engine, rb);
                assertArrayEquals(expectedB, second.tokenArray(), () -> mode + ": second request vs direct: " + second);
                assertEquals(new Usage(50, 10), second.usage, mode);
                String scrape = registry.scrape();
                assertTrue(scrape.contains("tandem_prompt_tokens_cached_total 32.0") && scrape.contains("tandem_prompt_tokens_total 63.0"),
                        () -> mode + ": 45 + (50 - 32) tokens computed, 32 reused:\n" + scrape);
                assertTrue(scrape.contains("tandem_kv_blocks_used 0.0"), () -> mode + ": pages still in use:\n" + scrape);
                RecordingSink again = run(engine, rb); // all of b's 3 full pages now indexed: 48 positions reused
                assertSame(second, again, mode + ": the same request again, 48 positions from the cache");
            }
        }
    }

    /**
     * Batch invariance end to end (DESIGN.md invariant 2, issue point 9): a greedy request with
     * logprobs gets bitwise the same tokens and logprobs alone and with 8 others (other prompt
     * lengths, some sampled), in the colocated engine and the split engine with either migration,
     * with prefill chunks of 1, 7 and 512 tokens. The reference is a plain Forward loop's tokens
     * and the colocated engine's logprobs alone with chunk 512.
     */
    @Test
    void aGreedyRequestIsBitwiseTheSameInEveryModeChunkSizeAndCompany() throws Exception {
        GenerationRequest target = EngineFixture.withLogprobs(EngineFixture.greedy(fx.prompt(23, 100), 12), 3);
        List<GenerationRequest> others = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            int[] p = fx.prompt(3 + 5 * i, 200 + i);
            others.add(i % 2 == 0 ? EngineFixture.greedy(p, 6 + 2 * i) : EngineFixture.sampled(p, 8 + i, 7000 + i));
        }
        int[] direct = fx.direct(target);
        RecordingSink reference;
        try (ColocatedEngine engine = SplitFixture.colocated(fx, 9, 512, 64, 16)) {
            reference = run(engine, target);
        }
        assertArrayEquals(direct, reference.tokenArray(), "colocated alone vs direct");
        for (String mode : List.of("colocated", "handoff", "copy")) {
            for (int chunk : new int[] {1, 7, 512}) {
                String where = mode + ", chunk " + chunk;
                try (Engine engine = mode.equals("colocated") ? SplitFixture.colocated(fx, 9, chunk, 64, 16)
                        : SplitFixture.engine(fx, KvMigration.Strategy.parse(mode), 9, chunk, 64, 16)) {
                    assertSame(reference, run(engine, target), where + ", alone");
                    RecordingSink[] sinks = new RecordingSink[9];
                    for (int i = 0; i < 9; i++) { // the target fifth: admitted while others prefill and decode
                        sinks[i] = new RecordingSink();
                        engine.submit(i == 4 ? target : others.get(i < 4 ? i : i - 1), sinks[i]);
                    }
                    for (RecordingSink s : sinks) {
                        s.await();
                        assertEquals(1, s.terminalCalls.get(), where);
                    }
                    assertSame(reference, sinks[4], where + ", with 8 others");
                    for (int i = 0; i < 8; i++) {
                        GenerationRequest o = others.get(i);
                        RecordingSink s = sinks[i < 4 ? i : i + 1];
                        assertArrayEquals(fx.direct(o), s.tokenArray(), where + ": request " + i + " vs direct: " + o);
                    }
                }
            }
        }
    }

    private static void assertSame(RecordingSink expected, RecordingSink got, String where) {
        assertArrayEquals(expected.tokenArray(), got.tokenArray(), () -> where + ": tokens " + got);
        assertEquals(expected.logprobs.size(), got.logprobs.size(), where);
        for (int t = 0; t < expected.logprobs.size(); t++) {
            Logprobs a = expected.logprobs.get(t), b = got.logprobs.get(t);
            assertNotNull(b, where + ": logprobs were asked for");
            final int tt = t;
            assertEquals(Float.floatToRawIntBits(a.logprob()), Float.floatToRawIntBits(b.logprob()),
                    () -> where + ": logprob of token " + tt + ": " + a.logprob() + " vs " + b.logprob());
            assertArrayEquals(a.topIds(), b.topIds(), where + ": top ids of token " + t);
            assertArrayEquals(a.topLogprobs(), b.topLogprobs(), where + ": top logprobs of token " + t);
        }
    }

    /** Handoff moves no bytes; copy moves each prompt's K/V of every layer (keys and values, f32). */
    @Test
    void migrationMetricsCountHandOversAndCopiedBytes() throws Exception {
        int[] promptLengths = {5, 16, 33};
        var c = fx.model.config();
        long expectedCopy = 0;
        for (int n : promptLengths) {
            expectedCopy += 2L * c.layers() * n * c.kvDim() * Float.BYTES;
        }
        for (KvMigration.Strategy m : KvMigration.Strategy.values()) {
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            try (SplitEngine engine = SplitFixture.engine(fx, m, 2, 16, 64, 4, registry)) {
                for (int n : promptLengths) {
                    RecordingSink s = run(engine, EngineFixture.greedy(fx.prompt(n, n), 3));
                    assertEquals(3, s.tokens.size(), s::toString);
                }
                run(engine, EngineFixture.greedy(fx.prompt(7, 1), 1)); // ends with its first token: never migrated
                String text = registry.scrape();
                long bytes = m == KvMigration.Strategy.COPY ? expectedCopy : 0;
                for (String line : List.of("tandem_kv_migration_seconds_count 3", "tandem_kv_migration_bytes_total " + bytes + ".0",
                        "tandem_kv_blocks_total " + (m == KvMigration.Strategy.COPY ? 16 : 8) + ".0",
                        "tandem_kv_blocks_used 0.0", "tandem_decode_batch_size ", // the last step's, a live gauge
                        "tandem_generation_tokens_total 10.0", "tandem_prompt_tokens_total 61.0",
                        "tandem_requests_total{state=\"finished\"} 4.0")) {
                    assertTrue(text.contains(line), () -> m + ": missing \"" + line + "\" in\n" + text);
                }
            }
        }
    }

    /** Text, stop strings and the first token on another thread: the split engine's pieces equal the colocated engine's. */
    @Test
    void textAndStopStringsMatchTheColocatedEngine() throws Exception {
        try (EngineFixture spm = new EngineFixture("llama-spm-q8_0.gguf")) {
            GenerationRequest plain = EngineFixture.greedy(spm.prompt(10, 77), 30);
            RecordingSink col;
            try (ColocatedEngine engine = SplitFixture.colocated(spm, 2, 16, 64, 4)) {
                col = run(engine, plain);
            }
            String text = col.text.toString();
            String stop = text.substring(text.length() / 2, text.length() / 2 + 3);
            GenerationRequest withStop = new GenerationRequest(plain.promptTokens(), plain.sampling(), 30, List.of(stop),
                    true, false, 0);
            RecordingSink colStop;
            try (ColocatedEngine engine = SplitFixture.colocated(spm, 2, 16, 64, 4)) {
                colStop = run(engine, withStop);
            }
            for (KvMigration.Strategy m : KvMigration.Strategy.values()) {
                try (SplitEngine engine = SplitFixture.engine(spm, m, 2, 16, 64, 4)) {
                    RecordingSink s = run(engine, plain);
                    assertEquals(col.pieces, s.pieces, () -> m + " pieces, prompt " + Arrays.toString(plain.promptTokens()));
                    RecordingSink t = run(engine, withStop);
                    assertEquals(colStop.pieces, t.pieces, () -> m + " pieces with stop \"" + stop + "\"");
                    assertEquals(colStop.reason, t.reason);
                    assertEquals(colStop.usage, t.usage);
                }
            }
        }
    }
}
