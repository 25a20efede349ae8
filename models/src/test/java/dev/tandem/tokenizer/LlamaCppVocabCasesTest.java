package dev.tandem.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** llama.cpp's test-tokenizer-0 cases for the SentencePiece vocabularies: every case, exactly. */
class LlamaCppVocabCasesTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf"})
    void everyCaseMatchesLlamaCpp(String vocab) {
        Tokenizer t = TestVocabs.tokenizer("vocab/" + vocab);
        List<TestVocabs.Case> cases = TestVocabs.cases(vocab);
        assertTrue(cases.size() >= 40, vocab + ": expected llama.cpp's ~46 cases, read " + cases.size());
        List<String> failures = new ArrayList<>();
        for (TestVocabs.Case c : cases) {
            int[] got = t.encode(c.text(), false, false); // test-tokenizer-0: add_special = false, parse_special = false
            if (!Arrays.equals(got, c.ids())) {
                failures.add(c + ", first difference at index " + Arrays.mismatch(got, c.ids()) + "\n    expected " + TestVocabs.describe(t, c.ids()) + "\n    got      " + TestVocabs.describe(t, got));
            }
        }
        if (!failures.isEmpty()) {
            fail(vocab + ": " + failures.size() + " of " + cases.size() + " cases differ from llama.cpp:\n" + String.join("\n", failures));
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf"})
    void decodeInvertsEncode(String vocab) {
        Tokenizer t = TestVocabs.tokenizer("vocab/" + vocab);
        List<String> failures = new ArrayList<>();
        for (TestVocabs.Case c : TestVocabs.cases(vocab)) {
            // decode drops the "▁" encode put in front (llama.cpp's detokenize does the same)
            String back = t.decode(t.encode(c.text(), false, false));
            if (!back.equals(c.text())) {
                failures.add(c + " decoded to " + TestVocabs.quote(back));
            }
            // with BOS first, detokenize keeps the prefix space: the leading space belongs to the first piece after BOS
            String withBos = t.decode(t.encode(c.text(), true, false));
            String expected = c.text().isEmpty() ? "" : " " + c.text();
            if (!withBos.equals(expected)) {
                failures.add(c + " with BOS decoded to " + TestVocabs.quote(withBos) + ", expected " + TestVocabs.quote(expected));
            }
        }
        assertTrue(failures.isEmpty(), vocab + ":\n" + String.join("\n", failures));
    }

    @Test
    void encodingAllCaseFilesIsFast() {
        Tokenizer t = TestVocabs.tokenizer("vocab/ggml-vocab-llama-spm.gguf");
        StringBuilder all = new StringBuilder();
        for (String v : List.of("ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf", "ggml-vocab-gpt-2.gguf",
                "ggml-vocab-falcon.gguf", "ggml-vocab-mpt.gguf", "ggml-vocab-starcoder.gguf")) {
            for (TestVocabs.Case c : TestVocabs.cases(v)) {
                all.append(c.text()).append('\n');
            }
        }
        String text = all.toString();
        t.encode(text, true, false); // warm up the JIT once
        long start = System.nanoTime();
        int[] ids = t.encode(text, true, false);
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms < 1000, "encoding " + text.length() + " chars took " + ms + " ms");
        assertEquals(" " + text, t.decode(ids), "round trip of the concatenated cases");
    }
}
