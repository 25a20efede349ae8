package dev.tandem.tokenizer;

import dev.tandem.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tiny hand-made vocabularies (no shared files needed): merge priority and its tie-break, the metadata flags,
 * byte fallback, and the errors. Ids are positions in the token list below.
 */
class SyntheticVocabularyTest {
    //                                     0        1      2       3     4    5    6     7     8       9         10
    private static final String[] TOKENS = {"<unk>", "<s>", "</s>", "▁", "a", "b", "ab", "ba", "<0x63>", "<|eot|>", "▁a"};
    private static final int[] TYPES = {2, 3, 3, 1, 1, 1, 1, 1, 6, 3, 1};

    @TempDir
    Path dir;

    private Tokenizer build(float[] scores, Map<String, Object> extra) throws IOException {
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("general.name", "synthetic");
        meta.put("tokenizer.ggml.model", "llama");
        meta.put("tokenizer.ggml.tokens", TOKENS);
        meta.put("tokenizer.ggml.scores", scores);
        meta.put("tokenizer.ggml.token_type", TYPES);
        meta.putAll(extra);
        Path p = MiniGguf.write(dir.resolve("v" + System.nanoTime() + ".gguf"), meta);
        try (GgufFile f = GgufFile.open(p)) {
            return Tokenizers.fromGguf(f);
        }
    }

    private static float[] scores(float ab, float ba, float spaceA) {
        return new float[] {0, 0, 0, -1, -1, -1, ab, ba, 0, 0, spaceA};
    }

    @Test
    void equalScoresMergeTheLeftmostPairFirst() throws IOException {
        Tokenizer t = build(scores(-5, -5, -9), Map.of());
        // "▁bab": ▁ b a b; "ba" (left 1) and "ab" (left 2) tie, the leftmost wins → ▁, ba, b
        assertArrayEquals(new int[] {3, 7, 5}, t.encode("bab", false, false));
    }

    @Test
    void higherScoreMergesFirst() throws IOException {
        Tokenizer t = build(scores(-4, -5, -9), Map.of());
        assertArrayEquals(new int[] {3, 5, 6}, t.encode("bab", false, false)); // "ab" scores higher → ▁, b, ab
        Tokenizer u = build(scores(-5, -5, -1), Map.of());
        assertArrayEquals(new int[] {10, 5}, u.encode("ab", false, false)); // "▁a" beats "ab" → ▁a, b
    }

    @Test
    void unknownCharactersFallBackToByteTokensOrFail() throws IOException {
        Tokenizer t = build(scores(-5, -5, -9), Map.of());
        assertArrayEquals(new int[] {3, 8, 4}, t.encode("ca", false, false)); // 'c' = 0x63 → <0x63>
        TokenizerException e = assertThrows(TokenizerException.class, () -> t.encode("d", false, false));
        assertTrue(e.getMessage().contains("<0x64>"), e.getMessage());
        assertEquals("ca", t.decode(t.encode("ca", false, false)));
    }

    @Test
    void metadataFlagsAndIds() throws IOException {
        Tokenizer plain = build(scores(-5, -5, -9), Map.of());
        assertArrayEquals(new int[] {1, 10}, plain.encode("a", true, false), "SPM defaults: BOS yes, EOS no, space prefix (▁a)");
        assertTrue(plain.isEndOfGeneration(2));
        assertFalse(plain.isEndOfGeneration(9), "<|eot|> is not an end-of-generation text llama.cpp knows");

        Tokenizer t = build(scores(-5, -5, -9), Map.of(
                "tokenizer.ggml.add_space_prefix", false,
                "tokenizer.ggml.add_bos_token", false,
                "tokenizer.ggml.add_eos_token", true,
                "tokenizer.ggml.eot_token_id", 9));
        assertArrayEquals(new int[] {4, 3, 5, 2}, t.encode("a b", true, false));
        assertFalse(t.stripsLeadingSpace());
        assertEquals(" a", t.decode(new int[] {3, 4}), "without add_space_prefix decode keeps the space");
        assertTrue(t.isEndOfGeneration(9));
        assertArrayEquals(new int[] {4, 9, 5}, t.encode("a<|eot|>b", false, true));
    }

    @Test
    void badSpecialIdsKeepTheDefault() throws IOException {
        Tokenizer t = build(scores(-5, -5, -9), Map.of("tokenizer.ggml.bos_token_id", 999));
        assertEquals(1, t.bos());
    }

    @Test
    void unsupportedOrMissingModelIsAClearError() throws IOException {
        Path bert = MiniGguf.write(dir.resolve("bert.gguf"), Map.of("tokenizer.ggml.model", "bert", "tokenizer.ggml.tokens", TOKENS));
        try (GgufFile f = GgufFile.open(bert)) {
            TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(f));
            assertEquals(bert + ": unsupported tokenizer tokenizer.ggml.model = \"bert\"; tandem reads: llama (SentencePiece), gpt2 (byte-level BPE)",
                    e.getMessage());
        }
        Path none = MiniGguf.write(dir.resolve("none.gguf"), Map.of("general.name", "x"));
        try (GgufFile f = GgufFile.open(none)) {
            TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(f));
            assertTrue(e.getMessage().contains("missing metadata tokenizer.ggml.model"), e.getMessage());
        }
        Path dup = MiniGguf.write(dir.resolve("dup.gguf"), Map.of("tokenizer.ggml.model", "llama", "tokenizer.ggml.tokens", new String[] {"a", "b", "a"}));
        try (GgufFile f = GgufFile.open(dup)) {
            TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(f));
            assertTrue(e.getMessage().contains("duplicate token") && e.getMessage().contains("ids 0 and 2"), e.getMessage());
        }
    }
}
