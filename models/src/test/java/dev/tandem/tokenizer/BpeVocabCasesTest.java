package dev.tandem.tokenizer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** llama.cpp's test-tokenizer-0 cases for the byte-level BPE vocabularies: every case exactly, and decode inverts encode. */
class BpeVocabCasesTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ggml-vocab-gpt-2.gguf", "ggml-vocab-falcon.gguf", "ggml-vocab-mpt.gguf", "ggml-vocab-starcoder.gguf",
            "ggml-vocab-refact.gguf", "ggml-vocab-deepseek-coder.gguf", "ggml-vocab-deepseek-llm.gguf"})
    void everyCaseMatchesLlamaCpp(String vocab) {
        Tokenizer t = TestVocabs.tokenizer("vocab/" + vocab);
        assertTrue(t instanceof BpeTokenizer, vocab + " should load as byte-level BPE, got " + t);
        List<TestVocabs.Case> cases = TestVocabs.cases(vocab);
        assertTrue(cases.size() >= 40, vocab + ": expected llama.cpp's ~46 cases, read " + cases.size());
        List<String> failures = new ArrayList<>();
        for (TestVocabs.Case c : cases) {
            int[] got = t.encode(c.text(), false, false);
            if (!Arrays.equals(got, c.ids())) {
                failures.add(c + ", first difference at index " + Arrays.mismatch(got, c.ids()) + "\n    expected "
                        + TestVocabs.describe(t, c.ids()) + "\n    got      " + TestVocabs.describe(t, got));
            }
        }
        if (!failures.isEmpty()) {
            fail(vocab + ": " + failures.size() + " of " + cases.size() + " cases differ from llama.cpp:\n" + String.join("\n", failures));
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ggml-vocab-gpt-2.gguf", "ggml-vocab-falcon.gguf", "ggml-vocab-mpt.gguf", "ggml-vocab-starcoder.gguf",
            "ggml-vocab-refact.gguf", "ggml-vocab-deepseek-coder.gguf", "ggml-vocab-deepseek-llm.gguf"})
    void decodeInvertsEncode(String vocab) {
        Tokenizer t = TestVocabs.tokenizer("vocab/" + vocab);
        List<String> failures = new ArrayList<>();
        for (TestVocabs.Case c : TestVocabs.cases(vocab)) {
            String back = t.decode(t.encode(c.text(), false, false));
            if (!back.equals(c.text())) {
                failures.add(c + " decoded to " + TestVocabs.quote(back));
            }
            // the expected ids (llama.cpp's) decode to the text too: decoding does not depend on our encoder
            String fromExpected = t.decode(c.ids());
            if (!fromExpected.equals(c.text())) {
                failures.add(c + ": llama.cpp's ids decoded to " + TestVocabs.quote(fromExpected));
            }
        }
        assertTrue(failures.isEmpty(), vocab + ":\n" + String.join("\n", failures));
    }
}
