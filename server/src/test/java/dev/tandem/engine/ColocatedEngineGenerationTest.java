package dev.tandem.engine;

import dev.tandem.model.SamplingParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the colocated engine generates: the same tokens as a plain Forward loop, alone or batched, and its stop rules. */
class ColocatedEngineGenerationTest {
    private static EngineFixture fx;

    @BeforeAll
    static void load() {
        fx = new EngineFixture("llama-spm-q8_0.gguf");
    }

    @AfterAll
    static void unload() {
        if (fx != null) {
            fx.close();
        }
    }

    private static RecordingSink run(ColocatedEngine engine, GenerationRequest r) throws Exception {
        RecordingSink sink = new RecordingSink();
        engine.submit(r, sink);
        return sink.await();
    }

    @Test
    void greedyAloneEqualsAPlainForwardLoop() throws Exception {
        GenerationRequest r = EngineFixture.greedy(fx.prompt(40, 1), 24); // 40 prompt tokens: three chunks of ≤ 16
        int[] expected = fx.direct(r);
        try (ColocatedEngine engine = fx.engine(8, 128, 16)) {
            RecordingSink s = run(engine, r);
            assertArrayEquals(expected, s.tokenArray(), () -> "engine vs direct, prompt " + Arrays.toString(r.promptTokens()));
            assertEquals(FinishReason.LENGTH, s.reason, s::toString);
            assertEquals(new Usage(40, 24), s.usage);
            assertEquals(1, s.terminalCalls.get());
            assertEquals(0, engine.kvPagesUsed());
        }
    }

    /**
     * Batch invariance end to end (DESIGN.md invariant 2): a request batched with 7 others — other
     * prompt lengths, some sampled, admitted and prefilled while it decodes — gets bitwise the same
     * tokens and logprobs as alone, and every request gets what a plain Forward loop gives it.
     */
    @Test
    void batchedWithSevenOthersGivesBitwiseTheSameTokensAndLogprobs() throws Exception {
        GenerationRequest target = EngineFixture.withLogprobs(EngineFixture.greedy(fx.prompt(23, 100), 20), 5);
        List<GenerationRequest> others = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            int[] p = fx.prompt(3 + 9 * i, 200 + i);
            others.add(i % 2 == 0 ? EngineFixture.greedy(p, 10 + 3 * i) : EngineFixture.sampled(p, 12 + i, 7000 + i));
        }
        try (ColocatedEngine engine = fx.engine(8, 128, 16)) {
            RecordingSink alone = run(engine, target);
            RecordingSink[] sinks = new RecordingSink[8];
            for (int i = 0; i < 8; i++) {
                sinks[i] = new RecordingSink();
                engine.submit(i == 3 ? target : others.get(i < 3 ? i : i - 1), sinks[i]);
            }
            for (RecordingSink s : sinks) {
                s.await();
            }
            RecordingSink batched = sinks[3];
            assertArrayEquals(alone.tokenArray(), batched.tokenArray(), "tokens alone vs batched");
            assertArrayEquals(fx.direct(target), alone.tokenArray(), "engine vs direct");
            for (int t = 0; t < alone.logprobs.size(); t++) {
                Logprobs a = alone.logprobs.get(t), b = batched.logprobs.get(t);
                assertNotNull(a, "logprobs were asked for");
                assertEquals(Float.floatToRawIntBits(a.logprob()), Float.floatToRawIntBits(b.logprob()), "logprob of token " + t);
                assertArrayEquals(a.topIds(), b.topIds(), "top ids of token " + t);
                assertArrayEquals(a.topLogprobs(), b.topLogprobs(), "top logprobs of token " + t);
                assertEquals(alone.tokens.get(t), a.topIds()[0], "greedy picks the most likely token");
                assertEquals(a.topLogprobs()[0], a.logprob(), "the chosen token's logprob is the top one");
            }
            for (int i = 0; i < 7; i++) {
                GenerationRequest o = others.get(i);
                RecordingSink s = sinks[i < 3 ? i : i + 1];
                assertArrayEquals(fx.direct(o), s.tokenArray(), "request " + i + " batched vs direct: " + o);
                assertEquals(1, s.terminalCalls.get());
            }
            assertEquals(0, engine.kvPagesUsed());
        }
    }

    @Test
    void seededSamplingIsReproducibleAndTheSeedMatters() throws Exception {
        int[] p = fx.prompt(12, 5);
        try (ColocatedEngine engine = fx.engine(4, 128, 16)) {
            int[] a = run(engine, EngineFixture.sampled(p, 30, 42)).tokenArray();
            int[] b = run(engine, EngineFixture.sampled(p, 30, 42)).tokenArray();
            int[] c = run(engine, EngineFixture.sampled(p, 30, 43)).tokenArray();
            assertArrayEquals(a, b, "same seed, same tokens");
            assertFalse(Arrays.equals(a, c), () -> "seeds 42 and 43 gave the same 30 tokens " + Arrays.toString(a));
            assertArrayEquals(fx.direct(EngineFixture.sampled(p, 30, 42)), a, "engine vs direct");
        }
    }

    @Test
    void maxTokensEndsWithLengthAfterExactlyThatMany() throws Exception {
        try (ColocatedEngine engine = fx.engine(2, 128, 4)) {
            for (int max : new int[] {1, 2, 17}) {
                RecordingSink s = run(engine, EngineFixture.greedy(fx.prompt(9, max), max));
                assertEquals(max, s.tokens.size(), s::toString);
                assertEquals(FinishReason.LENGTH, s.reason, s::toString);
                assertEquals(new Usage(9, max), s.usage);
            }
        }
    }

    @Test
    void contextEndEndsWithLength() throws Exception {
        try (ColocatedEngine engine = fx.engine(2, 64, 4)) {
            RecordingSink s = run(engine, EngineFixture.greedy(fx.prompt(50, 9), 100));
            assertEquals(14, s.tokens.size(), () -> "64 positions − 50 prompt tokens; " + s);
            assertEquals(FinishReason.LENGTH, s.reason);
            assertEquals(new Usage(50, 14), s.usage);
            RecordingSink full = run(engine, EngineFixture.greedy(fx.prompt(63, 10), 5));
            assertEquals(1, full.tokens.size(), "a prompt of context − 1 leaves room for one token");
            assertEquals(FinishReason.LENGTH, full.reason);
        }
    }

    /**
     * A stop string spanning a token boundary: generate greedily, pick a string that crosses the
     * boundary between two pieces, then generate again with it as a stop string.
     */
    @Test
    void stopStringSplitAcrossTokensNeverAppears() throws Exception {
        GenerationRequest plain = EngineFixture.greedy(fx.prompt(10, 77), 40);
        try (ColocatedEngine engine = fx.engine(2, 128, 4)) {
            RecordingSink full = run(engine, plain);
            String text = full.text.toString();
            String stop = null;
            int offset = 0;
            for (int i = 0; i + 1 < full.pieces.size() && stop == null; i++) {
                String a = full.pieces.get(i), b = full.pieces.get(i + 1);
                offset += a.length();
                if (a.length() >= 2 && !b.isEmpty()) {
                    String candidate = a.substring(a.length() - 2) + b.charAt(0);
                    int first = text.indexOf(candidate);
                    boolean spans = false; // does its first occurrence cross a piece boundary?
                    for (int at = 0, j = 0; j < full.pieces.size(); j++) {
                        at += full.pieces.get(j).length();
                        spans |= first < at && at < first + candidate.length();
                    }
                    if (first > 0 && spans) {
                        stop = candidate;
                    }
                }
            }
            assertNotNull(stop, () -> "no boundary-crossing stop string in " + full);
            String expected = text.substring(0, text.indexOf(stop));
            GenerationRequest withStop = new GenerationRequest(plain.promptTokens(), plain.sampling(), plain.maxTokens(),
                    List.of("never-there", stop), true, false, 0);
            RecordingSink s = run(engine, withStop);
            String got = s.text.toString();
            final String st = stop;
            assertEquals(expected, got, () -> "stop \"" + st + "\" in \"" + text + "\"");
            assertFalse(got.contains(stop));
            assertEquals(FinishReason.STOP, s.reason);
            assertTrue(s.tokens.size() < full.tokens.size(), s::toString);
            assertEquals(full.tokens.subList(0, s.tokens.size()), s.tokens, "the same tokens up to the stop");
            assertEquals(s.tokens.size(), s.usage.completionTokens(), "the completing token is counted");
        }
    }

    @Test
    void logprobsAreAbsentUnlessAsked() throws Exception {
        try (ColocatedEngine engine = fx.engine(2, 128, 4)) {
            RecordingSink s = run(engine, EngineFixture.greedy(fx.prompt(5, 3), 3));
            assertEquals(Arrays.asList(null, null, null), s.logprobs);
            RecordingSink t = run(engine, EngineFixture.withLogprobs(
                    new GenerationRequest(fx.prompt(5, 3), SamplingParams.greedy(), 3, List.of(), true, false, 0), 0));
            for (Logprobs lp : t.logprobs) {
                assertNotNull(lp);
                assertEquals(0, lp.topIds().length);
                assertTrue(lp.logprob() <= 0f && lp.logprob() > Float.NEGATIVE_INFINITY, () -> "logprob " + lp.logprob());
            }
        }
    }
}
