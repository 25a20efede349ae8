package dev.tandem.engine;

import dev.tandem.model.SamplingParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@code n > 1}: one prefill, n decodes. Choice i is exactly the single request with seed + i; in
 * both migrations the choices share the prompt's full KV pages (copy on write for the partial last
 * page), so they hold fewer pages than n separate requests, and a copy moves the shared pages once; cancelling the handle ends every choice
 * once and returns every page.
 */
class SplitEngineChoicesTest {
    private static EngineFixture fx;

    @BeforeAll
    static void load() {
        fx = new EngineFixture("llama31-q8_0.gguf");
    }

    @AfterAll
    static void unload() {
        if (fx != null) {
            fx.close();
        }
    }

    private static GenerationRequest withSeed(GenerationRequest r, long seed) {
        SamplingParams p = r.sampling().withSeed(seed);
        return new GenerationRequest(r.promptTokens(), p, r.maxTokens(), r.stop(), r.ignoreEos(), r.logprobs(), r.topLogprobs());
    }

    @ParameterizedTest
    @EnumSource(KvMigration.Strategy.class)
    void eachChoiceIsTheSingleRequestWithItsSeed(KvMigration.Strategy m) throws Exception {
        try (SplitEngine engine = SplitFixture.engine(fx, m, 4, 16, 128, 8)) {
            for (int promptLength : new int[] {37, 32, 5}) { // a partial last page, whole pages only, no whole page
                GenerationRequest sampled = EngineFixture.sampled(fx.prompt(promptLength, promptLength), 12, 42);
                GenerationRequest greedy = EngineFixture.greedy(fx.prompt(promptLength, 7 * promptLength), 10);
                for (GenerationRequest r : List.of(sampled, greedy)) {
                    RecordingSink[] s = {new RecordingSink(), new RecordingSink(), new RecordingSink()};
                    engine.submit(r, List.of(s));
                    for (int i = 0; i < 3; i++) {
                        s[i].await();
                        GenerationRequest single = withSeed(r, r.sampling().seed() + i);
                        String where = m + ", prompt " + promptLength + ", choice " + i + " of " + r;
                        assertArrayEquals(fx.direct(single), s[i].tokenArray(), where);
                        assertEquals(new Usage(promptLength, r.maxTokens()), s[i].usage, where);
                        assertEquals(1, s[i].terminalCalls.get(), where);
                    }
                }
            }
            assertEquals(0, engine.kvPagesUsed(), m + ": pages after the requests ended");
            assertEquals(0, engine.runningCount());
        }
    }

    @org.junit.jupiter.api.Test
    void theColocatedEngineRunsChoicesAsSeparateRequests() throws Exception {
        GenerationRequest r = EngineFixture.sampled(fx.prompt(20, 9), 8, 1234);
        try (ColocatedEngine engine = SplitFixture.colocated(fx, 4, 16, 64, 8)) {
            RecordingSink[] s = {new RecordingSink(), new RecordingSink()};
            Engines.submit(engine, r, List.of(s));
            for (int i = 0; i < 2; i++) {
                assertArrayEquals(fx.direct(withSeed(r, 1234 + i)), s[i].await().tokenArray(), "choice " + i);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(KvMigration.Strategy.class)
    void choicesShareThePromptPagesAndCancelTogether(KvMigration.Strategy m) throws Exception {
        var registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        try (SplitEngine engine = SplitFixture.engine(fx, m, 4, 16, 128, 8, registry)) {
            StallingSink first = new StallingSink(2); // holds the decode worker at choice 0's second token
            RecordingSink b = new RecordingSink(), c = new RecordingSink();
            RequestHandle h = engine.submit(EngineFixture.greedy(fx.prompt(37, 1), 20), List.of(first, b, c));
            first.awaitStalled();
            // Each choice needs ceil((37 + 20 − 1) / 16) = 4 pages; they share the prompt's 2 full pages (in copy
            // mode the decode-side copies; the prefill-side prompt pages are free again, idle in the prefix index).
            assertEquals(4 + 2 * (4 - 2), engine.kvPagesUsed(), m + ": pages held by 3 choices of a 37-token prompt");
            // Copy: the 32 positions of the full pages cross once, the 5 of the partial page once per choice.
            var c0 = fx.model.config();
            long bytes = m == KvMigration.Strategy.COPY ? (32 + 3 * 5) * 2L * c0.layers() * c0.kvDim() * Float.BYTES : 0;
            String scrape = registry.scrape();
            org.junit.jupiter.api.Assertions.assertTrue(scrape.contains("tandem_kv_migration_bytes_total " + bytes + ".0"),
                    () -> m + ": expected " + bytes + " bytes migrated:\n" + scrape);
            RecordingSink queued = new RecordingSink(), queued2 = new RecordingSink();
            RequestHandle q = engine.submit(EngineFixture.greedy(fx.prompt(9, 2), 5), List.of(queued, queued2)); // 2 slots, 1 free
            h.cancel();
            q.cancel();
            first.open();
            for (RecordingSink s : List.of(first.rec, b, c, queued, queued2)) {
                s.await();
                assertEquals(FinishReason.CANCELLED, s.reason, s::toString);
                assertEquals(1, s.terminalCalls.get(), s::toString);
                assertEquals(0, s.callsAfterTerminal.get(), s::toString);
            }
            assertEquals(List.of(), queued.tokens, "the queued pair never ran");
            assertEquals(0, engine.kvPagesUsed(), m + ": pages after cancelling");
            assertEquals(0, engine.runningCount());
            EngineException.Rejected e = assertThrows(EngineException.Rejected.class, () -> engine.submit(
                    EngineFixture.greedy(fx.prompt(5, 3), 2), List.of(new RecordingSink(), new RecordingSink(),
                            new RecordingSink(), new RecordingSink(), new RecordingSink())));
            assertEquals(EngineException.Kind.INVALID_REQUEST, e.kind());
            assertEquals("n = 5 choices exceed the 4 sequences the engine runs at once", e.getMessage());
        }
    }
}
