package dev.tandem.tokenizer;

import dev.tandem.gguf.GgufFile;
import dev.tandem.testing.Shared;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BOS/EOS, special-token parsing, end-of-generation ids, token pieces and the decode space rule. Expected ids are
 * looked up by token text in the vocabulary (never taken from our own encoder), and follow llama.cpp's rules as read
 * in llama-vocab.cpp.
 */
class SpecialTokensTest {
    private static final String SPM = "vocab/ggml-vocab-llama-spm.gguf";
    private static final String PHI3 = "vocab/ggml-vocab-phi-3.gguf";

    private static int id(Tokenizer t, String text) {
        int id = t.tokenId(text);
        assertTrue(id >= 0, "the vocabulary has no token " + TestVocabs.quote(text));
        return id;
    }

    private static void assertIds(Tokenizer t, int[] expected, int[] got, String input) {
        assertArrayEquals(expected, got, () -> "input " + TestVocabs.quote(input) + "\n  expected " + TestVocabs.describe(t, expected)
                + "\n  got      " + TestVocabs.describe(t, got));
    }

    @Test
    void llamaSpmSpecialIdsAndFlags() {
        Tokenizer t = TestVocabs.tokenizer(SPM);
        assertEquals(32000, t.vocabSize());
        assertEquals(1, t.bos());
        assertEquals(2, t.eos());
        assertTrue(t.addsBos());
        assertFalse(t.addsEos());
        assertTrue(t.stripsLeadingSpace());
        assertEquals("<s>", t.tokenText(1));
        assertEquals(-1, t.tokenId("no such token text"));
        assertTrue(t.isEndOfGeneration(2));
        for (int notEog : new int[] {0, 1, 3, id(t, "▁Hello"), -1, 32000}) {
            assertFalse(t.isEndOfGeneration(notEog), "id " + notEog);
        }
    }

    @Test
    void addSpecialPutsBosOnlyAndEmptyTextIsBosAlone() {
        Tokenizer t = TestVocabs.tokenizer(SPM);
        assertIds(t, new int[] {1, id(t, "▁Hello")}, t.encode("Hello", true, false), "Hello");
        assertIds(t, new int[] {1}, t.encode("", true, false), "");
        assertIds(t, new int[0], t.encode("", false, false), "");
    }

    @Test
    void parseSpecialRecognizesControlTextsAndPrefixesTheTextAfterThem() {
        Tokenizer t = TestVocabs.tokenizer(SPM);
        String s = "<s>Hello</s>";
        assertIds(t, new int[] {1, id(t, "▁Hello"), 2}, t.encode(s, false, true), s);
        s = "Hi<s>there";
        assertIds(t, new int[] {id(t, "▁Hi"), 1, id(t, "▁there")}, t.encode(s, false, true), s);
        int[] plain = t.encode(s, false, false);
        assertFalse(Arrays.stream(plain).anyMatch(i -> i == 1), "without parse_special <s> is text: " + TestVocabs.describe(t, plain));
        assertEquals(s, t.decode(plain));
    }

    @Test
    void phi3SpecialTokensStripTheWhitespaceAfterThem() {
        Tokenizer t = TestVocabs.tokenizer(PHI3);
        assertEquals(32064, t.vocabSize());
        assertEquals(1, t.bos());
        assertEquals(32000, t.eos());
        // llama.cpp gives Phi-3's special tokens RSTRIP (by general.name): the "\n" after <|user|> and <|end|> vanishes
        String s = "<|user|>\nHi<|end|>\n<|assistant|>";
        assertIds(t, new int[] {id(t, "<|user|>"), id(t, "▁Hi"), id(t, "<|end|>"), id(t, "<|assistant|>")}, t.encode(s, false, true), s);
        int[] plain = t.encode(s, false, false);
        assertFalse(Arrays.stream(plain).anyMatch(i -> i >= 32000), "without parse_special these are text: " + TestVocabs.describe(t, plain));
        assertEquals(s, t.decode(plain));
    }

    @Test
    void phi3EndOfGenerationIds() {
        Tokenizer t = TestVocabs.tokenizer(PHI3);
        for (String eog : new String[] {"<|endoftext|>", "<|end|>", "</s>"}) {
            assertTrue(t.isEndOfGeneration(id(t, eog)), eog);
            assertEquals(0, t.tokenBytes(id(t, eog)).length, eog + " is CONTROL, so it renders as nothing");
        }
        for (String other : new String[] {"<|assistant|>", "<|user|>", "<s>", "<unk>", "▁Hi"}) {
            assertFalse(t.isEndOfGeneration(id(t, other)), other);
        }
    }

    @Test
    void tokenBytesRenderSpacesBytesAndControlTokens() {
        Tokenizer t = TestVocabs.tokenizer(SPM);
        assertEquals(" Hello", new String(t.tokenBytes(id(t, "▁Hello")), StandardCharsets.UTF_8));
        assertArrayEquals(new byte[] {'\n'}, t.tokenBytes(id(t, "<0x0A>")));
        assertArrayEquals(new byte[] {(byte) 0xF0}, t.tokenBytes(id(t, "<0xF0>")));
        assertArrayEquals(new byte[0], t.tokenBytes(1));
        assertArrayEquals(new byte[0], t.tokenBytes(0));
        assertEquals("<s>", new String(t.tokenBytes(1, true), StandardCharsets.UTF_8));
        assertEquals("<unk>", new String(t.tokenBytes(0, true), StandardCharsets.UTF_8));
        t.tokenBytes(1, true)[0] = 'X'; // a fresh copy each time
        assertEquals("<s>", new String(t.tokenBytes(1, true), StandardCharsets.UTF_8));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.tokenBytes(32000));
        assertTrue(e.getMessage().contains("32000"), e.getMessage());
    }

    @Test
    void decodeDropsTheLeadingSpaceOfTheFirstTokenOnly() {
        Tokenizer t = TestVocabs.tokenizer(SPM);
        int hello = id(t, "▁Hello"), world = id(t, "▁world");
        assertEquals("Hello world", t.decode(new int[] {hello, world}));
        assertEquals(" Hello world", t.decode(new int[] {1, hello, world}), "after BOS llama.cpp keeps the space");
        assertEquals("Hello world", t.decode(new int[] {hello, world, 2}));
        assertEquals("", t.decode(new int[0]));
    }

    @Test
    void unsupportedModelIsAOneLineErrorNamingIt() throws java.io.IOException {
        Path t5 = java.nio.file.Files.createTempFile("t5-vocab", ".gguf");
        try {
            MiniGguf.write(t5, java.util.Map.of("tokenizer.ggml.model", "t5", "tokenizer.ggml.tokens", new String[] {"a"}));
            try (GgufFile f = GgufFile.open(t5)) {
                TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(f));
                String m = e.getMessage();
                assertTrue(m.contains("\"t5\"") && m.contains("llama") && m.contains("gpt2") && m.contains(t5.getFileName().toString()), m);
                assertFalse(m.contains("\n"), m);
            }
        } finally {
            java.nio.file.Files.deleteIfExists(t5);
        }
    }
}
