package dev.tandem.engine;

import dev.tandem.model.SamplingParams;
import dev.tandem.tokenizer.Tokenizer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
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

    /**
     * End of generation: the model's random weights never pick EOS early, so a tokenizer wrapper
     * declares a greedy token (the first new one from the 3rd on) an end-of-generation token. The request stops there with STOP;
     * that token is delivered (counted in usage) with no text of its own; ignoreEos runs past it.
     */
    @Test
    void endOfGenerationTokenStopsAndIsCountedButNotShown() throws Exception {
        GenerationRequest plain = EngineFixture.greedy(fx.prompt(10, 55), 20);
        int[] tokens = fx.direct(plain);
        int k = 2; // the first position ≥ 2 whose token did not occur before it
        while (k < tokens.length && contains(Arrays.copyOf(tokens, k), tokens[k])) {
            k++;
        }
        assertTrue(k < tokens.length - 1, () -> "test setup: no fresh token in " + Arrays.toString(tokens));
        int eog = tokens[k];
        Tokenizer marked = new EogTokenizer(fx.tokenizer, eog);
        EngineConfig cfg = new EngineConfig("test", 2, 2, 16, 128, 256, 4);
        try (ColocatedEngine engine = new ColocatedEngine(fx.model, marked, null, cfg, new SimpleMeterRegistry())) {
            GenerationRequest stopAtEog = new GenerationRequest(plain.promptTokens(), plain.sampling(), 20, List.of(), false, false, 0);
            RecordingSink s = run(engine, stopAtEog);
            assertEquals(FinishReason.STOP, s.reason, s::toString);
            assertArrayEquals(Arrays.copyOf(tokens, k + 1), s.tokenArray(), "tokens up to and including the EOG token");
            assertEquals(new Usage(10, k + 1), s.usage);
            assertEquals("", s.pieces.get(k), "the EOG token's own text is not shown");
            StringBuilder before = new StringBuilder();
            for (int i = 0; i < k; i++) {
                before.append(new String(fx.tokenizer.tokenBytes(tokens[i]), StandardCharsets.UTF_8));
            }
            assertEquals(before.toString(), s.text.toString(), "text of the tokens before it");
            RecordingSink ignoring = run(engine, plain);
            assertArrayEquals(tokens, ignoring.tokenArray(), "ignoreEos runs past it");
            assertEquals(FinishReason.LENGTH, ignoring.reason);
        }
    }

    private static boolean contains(int[] a, int x) {
        return Arrays.stream(a).anyMatch(v -> v == x);
    }

    /** A tokenizer that also treats one chosen id as end of generation. */
    private record EogTokenizer(Tokenizer t, int eog) implements Tokenizer {
        @Override public int[] encode(String text, boolean addSpecial, boolean parseSpecial) { return t.encode(text, addSpecial, parseSpecial); }
        @Override public byte[] tokenBytes(int id) { return t.tokenBytes(id); }
        @Override public byte[] tokenBytes(int id, boolean special) { return t.tokenBytes(id, special); }
        @Override public String decode(int[] ids) { return t.decode(ids); }
        @Override public boolean stripsLeadingSpace() { return t.stripsLeadingSpace(); }
        @Override public int vocabSize() { return t.vocabSize(); }
        @Override public int bos() { return t.bos(); }
        @Override public int eos() { return t.eos(); }
        @Override public boolean addsBos() { return t.addsBos(); }
        @Override public boolean addsEos() { return t.addsEos(); }
        @Override public boolean isEndOfGeneration(int id) { return id == eog || t.isEndOfGeneration(id); }
        @Override public String tokenText(int id) { return t.tokenText(id); }
        @Override public int tokenId(String text) { return t.tokenId(text); }
    }
}
