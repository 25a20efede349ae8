package dev.tandem.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Pre-tokenizer splits, for the names whose vocabularies are too large to keep (llama-bpe, qwen2, command-r, smollm,
 * olmo) and for the quirks of the others. Each expected split is worked out by hand from the pattern llama.cpp uses
 * (leftmost match, alternatives in order, greedy quantifiers), as noted beside it.
 */
class PreTokenizerTest {

    private static List<String> words(String pre, String text) {
        PreTokenizer p = PreTokenizers.byName(pre);
        assertNotNull(p, pre);
        int[] cps = text.codePoints().toArray();
        PreTokenizer.Lengths lens = p.split(cps);
        List<String> out = new ArrayList<>();
        int at = 0;
        for (int i = 0; i < lens.size; i++) {
            out.add(new String(cps, at, lens.a[i]));
            at += lens.a[i];
        }
        assertEquals(cps.length, at, pre + ": pieces of " + TestVocabs.quote(text) + " do not add up");
        return out;
    }

    private static void check(String pre, String text, String... expected) {
        assertEquals(List.of(expected), words(pre, text), pre + " on " + TestVocabs.quote(text));
    }

    @Test
    void llama3() {
        for (String pre : List.of("llama-bpe", "llama3")) {
            check(pre, "Hello world", "Hello", " world");
            // contractions in any case; a space before digits is its own word (\s+ once \s+(?!\S) fails); digits in threes
            check(pre, "I'm HERE'S 12345", "I", "'m", " HERE", "'S", " ", "123", "45");
            // \s*[\r\n]+ takes the spaces and newlines up to the last newline; \s+(?!\S) leaves one space for " b"
            check(pre, "a  \n\n  b", "a", "  \n\n", " ", " b");
            // punctuation runs take the newlines after them
            check(pre, "3.14!!\n", "3", ".", "14", "!!\n");
            // any one non-letter, non-digit, non-newline character may lead a word: a tab, an underscore
            check(pre, "\tword_id", "\tword", "_id");
            check(pre, "Привет мир 🦙🦙", "Привет", " мир", " 🦙🦙");
            // trailing whitespace: \s+(?!\S) matches all of it at the end
            check(pre, "x   ", "x", "   ");
            check(pre, "we'll", "we", "'ll");
        }
    }

    @Test
    void qwen2() {
        // like Llama 3 but one digit per word; runs through the regex engine on the collapsed text
        check("qwen2", "12345", "1", "2", "3", "4", "5");
        check("qwen2", "I'M 2025\r\n\r\nok", "I", "'M", " ", "2", "0", "2", "5", "\r\n\r\n", "ok");
        check("qwen2", "Привет, мир!", "Привет", ",", " мир", "!");
        check("qwen2", "a  \n\n  b", "a", "  \n\n", " ", " b");
        check("qwen2", "\tword_id", "\tword", "_id");
    }

    @Test
    void starcoderFamilySplitsDigitsFirst() {
        for (String pre : List.of("command-r", "smollm", "starcoder", "refact")) {
            // \p{N} first cuts every digit out, so the space before them stays alone
            check(pre, "abc 123 x", "abc", " ", "1", "2", "3", " x");
            check(pre, "Hello  world", "Hello", " ", " world");
        }
    }

    @Test
    void gpt2FamilyKeepsSpaceWithDigits() {
        for (String pre : List.of("olmo", "gpt-2", "mpt")) {
            check(pre, "abc 123 x", "abc", " 123", " x");
            // contractions are lowercase only: "'S" is punctuation then a letter
            check(pre, "it's  OK'S", "it", "'s", " ", " OK", "'", "S");
            check(pre, "Hello\n\n world", "Hello", "\n\n", " world");
        }
    }

    @Test
    void defaultIsLlamaCppsDefaultList() {
        // [\p{P}\$\+<=>\^~\|]+ first, then the GPT-2 pattern, then \p{N}+, then [0-9][0-9][0-9]
        check("default", "a+b=c;", "a", "+", "b", "=", "c", ";");
        check("default", "x 12345", "x", " ", "123", "45");
    }

    @Test
    void falconGroupsDigitsInThrees() {
        check("falcon", "x 12345", "x", " ", "123", "45");
        check("falcon", "a`b", "a", "`", "b");
    }

    @Test
    void emptyTextHasNoWords() {
        for (String pre : List.of("llama-bpe", "qwen2", "gpt-2", "deepseek-llm", "deepseek-coder", "falcon", "default", "smollm")) {
            assertEquals(List.of(), words(pre, ""), pre);
        }
    }
}
