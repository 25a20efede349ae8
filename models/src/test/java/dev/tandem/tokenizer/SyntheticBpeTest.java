package dev.tandem.tokenizer;

import dev.tandem.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A small hand-made byte-level BPE vocabulary (no shared files needed) run through the pre-tokenizers whose real
 * vocabularies are too large to keep: merges by rank and their tie-break, Llama 3's whole-word rule, BOS defaults,
 * special tokens, and the load errors. Ids 0..255 are the byte characters (id = byte value); the others are listed below.
 */
class SyntheticBpeTest {
    /** Merges in rank order; each adds the merged token at id 256 + rank. */
    private static final String[] MERGES = {"Ġ w", "o r", "Ġw or", "l d", "Ġwor ld", "H e", "l l", "He ll", "Hell o", "1 2", "12 3"};
    private static final int G_W = 256, OR = 257, G_WOR = 258, LD = 259, G_WORLD = 260, HE = 261, LL = 262, HELL = 263, HELLO = 264,
            N12 = 265, N123 = 266;
    /** Tokens after the merged ones: a word no merge builds, and two control tokens. */
    private static final int G_XYZ = 267, EOT = 268, BOT = 269;

    @TempDir
    Path dir;

    private Tokenizer build(String pre, Map<String, Object> extra) throws IOException {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(new String(Character.toChars(ByteUnicode.codePoint(b))));
        }
        for (String m : MERGES) {
            tokens.add(m.replace(" ", ""));
        }
        tokens.addAll(List.of("Ġxyz", "<|eot_id|>", "<|begin_of_text|>"));
        int[] types = new int[tokens.size()];
        Arrays.fill(types, 1);
        types[EOT] = 3;
        types[BOT] = 3;
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("general.name", "synthetic-bpe");
        meta.put("tokenizer.ggml.model", "gpt2");
        if (pre != null) {
            meta.put("tokenizer.ggml.pre", pre);
        }
        meta.put("tokenizer.ggml.tokens", tokens.toArray(new String[0]));
        meta.put("tokenizer.ggml.token_type", types);
        meta.put("tokenizer.ggml.merges", MERGES);
        meta.put("tokenizer.ggml.bos_token_id", BOT);
        meta.put("tokenizer.ggml.eos_token_id", EOT);
        meta.putAll(extra);
        Path p = MiniGguf.write(dir.resolve("bpe" + System.nanoTime() + ".gguf"), meta);
        try (GgufFile f = GgufFile.open(p)) {
            return Tokenizers.fromGguf(f);
        }
    }

    private static void check(Tokenizer t, String text, int... expected) {
        int[] got = t.encode(text, false, false);
        assertArrayEquals(expected, got, t + " on " + TestVocabs.quote(text) + ": got " + TestVocabs.describe(t, got));
        assertEquals(text, t.decode(got), "round trip of " + TestVocabs.quote(text));
    }

    @Test
    void mergesApplyByRank() throws IOException {
        for (String pre : List.of("llama-bpe", "qwen2", "command-r", "smollm", "olmo")) {
            Tokenizer t = build(pre, Map.of());
            // "Hello": He (rank 5), ll (6), He+ll (7), Hell+o (8); " world": Ġw, or, Ġw+or, ld, Ġwor+ld
            check(t, "Hello world", HELLO, G_WORLD);
            // "lll": the two "l l" pairs tie at rank 6; the leftmost merges first
            check(t, "lll", LL, 'l');
            // no merge for "Hel" + "p": He, l, p
            check(t, "Help", HE, 'l', 'p');
        }
    }

    @Test
    void digitsFollowEachPreTokenizer() throws IOException {
        check(build("llama-bpe", Map.of()), "12345", N123, '4', '5');     // \p{N}{1,3}: "123", "45"
        check(build("qwen2", Map.of()), "12345", '1', '2', '3', '4', '5'); // \p{N}: one digit per word
        check(build("smollm", Map.of()), "12345", '1', '2', '3', '4', '5');
        check(build("command-r", Map.of()), " 123", ' ', '1', '2', '3'); // the space is cut off by \p{N} first
        check(build("olmo", Map.of()), "12345", N123, '4', '5');         // one word "12345": 12, 123, then 4, 5
    }

    @Test
    void llama3TakesAWholeWordTokenWithoutMerging() throws IOException {
        // "Ġxyz" is a token but no merge builds it: Llama 3 (ignore_merges) takes it whole, GPT-2-style pre-tokenizers cannot
        check(build("llama-bpe", Map.of()), " xyz", G_XYZ);
        check(build("olmo", Map.of()), " xyz", ' ', 'x', 'y', 'z');
        check(build("qwen2", Map.of()), " xyz", ' ', 'x', 'y', 'z');
    }

    @Test
    void bosDefaultsFollowLlamaCpp() throws IOException {
        Tokenizer llama3 = build("llama-bpe", Map.of());
        assertTrue(llama3.addsBos());
        assertArrayEquals(new int[] {BOT, HELLO}, llama3.encode("Hello", true, false));
        Tokenizer off = build("llama-bpe", Map.of("tokenizer.ggml.add_bos_token", false));
        assertArrayEquals(new int[] {HELLO}, off.encode("Hello", true, false));
        for (String pre : List.of("qwen2", "olmo", "command-r", "smollm")) {
            Tokenizer t = build(pre, Map.of());
            assertFalse(t.addsBos(), pre);
            assertArrayEquals(new int[] {HELLO}, t.encode("Hello", true, false), pre);
        }
        Tokenizer on = build("qwen2", Map.of("tokenizer.ggml.add_bos_token", true));
        assertArrayEquals(new int[] {BOT, HELLO}, on.encode("Hello", true, false));
    }

    @Test
    void specialTokensAreMatchedBeforePreTokenizing() throws IOException {
        Tokenizer t = build("llama-bpe", Map.of());
        assertArrayEquals(new int[] {HELLO, EOT, G_WORLD}, t.encode("Hello<|eot_id|> world", false, true));
        // not parsed: "<|", "eot", "_id", "|>" are words (see PreTokenizerTest), each a run of single byte tokens
        assertArrayEquals(new int[] {HELLO, '<', '|', 'e', 'o', 't', '_', 'i', 'd', '|', '>', G_WORLD},
                t.encode("Hello<|eot_id|> world", false, false));
        assertEquals("Hello world", t.decode(new int[] {HELLO, EOT, G_WORLD}));
        assertArrayEquals("<|eot_id|>".getBytes(StandardCharsets.UTF_8), t.tokenBytes(EOT, true));
        assertTrue(t.isEndOfGeneration(EOT));
        assertFalse(t.isEndOfGeneration(HELLO));
    }

    @Test
    void streamingDecoderReassemblesSplitCharacters() throws IOException {
        Tokenizer t = build("olmo", Map.of());
        String text = "é🦙 world"; // no merges: every UTF-8 byte is its own token
        int[] ids = t.encode(text, false, false);
        StreamingDecoder d = StreamingDecoder.likeDecode(t);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(d.push(id));
        }
        sb.append(d.flush());
        assertEquals(text, sb.toString());
    }

    @Test
    void unknownPreTokenizerIsOneClearLine() {
        TokenizerException e = assertThrows(TokenizerException.class, () -> build("klingon", Map.of()));
        String m = e.getMessage();
        assertTrue(m.contains("unsupported pre-tokenizer tokenizer.ggml.pre = \"klingon\"; tandem reads: default, llama-bpe")
                && m.contains("qwen2") && m.contains("deepseek-coder") && !m.contains("\n"), m);
    }

    @Test
    void missingPreUsesTheDefaultList() throws IOException {
        Tokenizer t = build(null, Map.of());
        assertEquals("default", ((BpeTokenizer) t).preTokenizer());
    }

    @Test
    void missingMergesIsAnError() {
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> build("gpt-2", Map.of("tokenizer.ggml.merges", "not an array")));
        assertTrue(e.getMessage().endsWith("metadata tokenizer.ggml.merges should be an array of strings"), e.getMessage());
    }
}
