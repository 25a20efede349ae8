package dev.tandem.tokenizer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random Unicode text (fixed seed) through every shared vocabulary: encoding never throws and decoding gives the text
 * back. The text mixes scripts, emoji, control characters, unassigned and private-use code points, non-ASCII spaces,
 * and long runs of spaces, newlines and digits. Lone surrogates are left out: a Java string's UTF-8 has no form for them.
 * A byte-level vocabulary without a token for some byte drops that byte, as llama.cpp does (falcon has none for 14
 * ASCII control bytes); the expected text leaves those characters out.
 */
class TokenizerRoundTripPropertyTest {
    private static final int STRINGS = 300;
    private static final int[][] RANGES = {
            {0x20, 0x7E}, {0x20, 0x7E}, {0x00, 0x1F}, {0x7F, 0x9F}, {0xA0, 0x24F}, {0x300, 0x36F}, {0x370, 0x3FF},
            {0x400, 0x4FF}, {0x590, 0x6FF}, {0x900, 0x97F}, {0xE00, 0xE7F}, {0x1780, 0x17FF}, {0x2000, 0x206F},
            {0x3000, 0x30FF}, {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}, {0xE000, 0xE0FF}, {0xFF00, 0xFFEF}, {0xFFF0, 0xFFFF},
            {0x1F300, 0x1FAFF}, {0x10400, 0x1044F}, {0x20000, 0x2A6DF}, {0xE0000, 0xE007F}, {0x0378, 0x0379}};

    static String randomText(SplittableRandom r) {
        StringBuilder sb = new StringBuilder();
        int parts = 1 + r.nextInt(12);
        for (int p = 0; p < parts; p++) {
            switch (r.nextInt(6)) {
                case 0 -> sb.append(" ".repeat(1 + r.nextInt(40)));
                case 1 -> {
                    for (int i = r.nextInt(1, 40); i > 0; i--) {
                        sb.append((char) ('0' + r.nextInt(10)));
                    }
                }
                case 2 -> sb.append(List.of("\n", "\r\n", "\t", "\n\n\n", " \n ", "\u00A0", "\u3000", "\u2028", "\u0085", "'s", "'LL")
                        .get(r.nextInt(11)));
                default -> {
                    for (int i = r.nextInt(1, 20); i > 0; i--) {
                        int[] range = RANGES[r.nextInt(RANGES.length)];
                        int cp = r.nextInt(range[0], range[1] + 1);
                        if (cp >= 0xD800 && cp <= 0xDFFF) {
                            continue;
                        }
                        sb.appendCodePoint(cp);
                    }
                }
            }
        }
        return sb.toString();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ggml-vocab-gpt-2.gguf", "ggml-vocab-falcon.gguf", "ggml-vocab-mpt.gguf", "ggml-vocab-starcoder.gguf",
            "ggml-vocab-refact.gguf", "ggml-vocab-deepseek-coder.gguf", "ggml-vocab-deepseek-llm.gguf",
            "ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf"})
    void randomTextRoundTrips(String vocab) {
        Tokenizer t = TestVocabs.tokenizer("vocab/" + vocab);
        SplittableRandom r = new SplittableRandom(20240611);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < STRINGS && failures.size() < 5; i++) {
            String text = randomText(r);
            try {
                int[] ids = t.encode(text, false, false);
                String back = t.decode(ids);
                String expected = withoutUnencodable(t, text);
                if (!back.equals(expected)) {
                    failures.add("string " + i + " " + TestVocabs.quote(text) + " decoded to " + TestVocabs.quote(back)
                            + "\n    ids " + TestVocabs.describe(t, ids));
                }
            } catch (RuntimeException e) {
                failures.add("string " + i + " " + TestVocabs.quote(text) + " threw " + e);
            }
        }
        assertTrue(failures.isEmpty(), vocab + " (seed 20240611):\n" + String.join("\n", failures));
    }

    /** {@code text} without the ASCII characters whose byte has no token in a byte-level vocabulary. */
    private static String withoutUnencodable(Tokenizer t, String text) {
        if (!(t instanceof BpeTokenizer)) {
            return text;
        }
        StringBuilder sb = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            if (cp >= 0x80 || t.tokenId(new String(Character.toChars(ByteUnicode.codePoint(cp)))) >= 0) {
                sb.appendCodePoint(cp);
            }
        });
        return sb.toString();
    }
}
