package dev.tandem.tokenizer;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** 100 KB inputs encode in well under the bound (the merge loop is O(n log n), not O(n²)) and decode back exactly. */
class TokenizerPerformanceTest {
    private static final int SIZE = 100_000;
    private static final Duration BOUND = Duration.ofSeconds(10); // generous: a shared 2-core machine; expect ~0.1 s

    private static void roundTripInTime(String what, String text) {
        Tokenizer t = TestVocabs.tokenizer("vocab/ggml-vocab-llama-spm.gguf");
        int[] ids = assertTimeoutPreemptively(BOUND, () -> t.encode(text, false, false), what);
        String back = t.decode(ids);
        assertEquals(text.length(), back.length(), what + ": decoded length");
        assertEquals(text, back, what);
    }

    @Test
    void longMixedText() {
        StringBuilder sb = new StringBuilder();
        var cases = TestVocabs.cases("ggml-vocab-llama-spm.gguf");
        for (int i = 0; sb.length() < SIZE; i++) {
            sb.append(cases.get(i % cases.size()).text()).append(' ');
        }
        roundTripInTime("100 KB of llama.cpp's test strings", sb.toString());
    }

    @Test
    void longRunWithoutSpaces() {
        roundTripInTime("100 KB of 'a'", "a".repeat(SIZE));
    }

    @Test
    void longRandomUnicode() {
        Random r = new Random(7);
        StringBuilder sb = new StringBuilder();
        int[][] ranges = {{0x20, 0x7e}, {0xa0, 0x24f}, {0x400, 0x4ff}, {0x3040, 0x30ff}, {0x4e00, 0x9fff}, {0x1f300, 0x1faff}};
        while (sb.length() < SIZE) {
            int[] range = ranges[r.nextInt(ranges.length)];
            sb.appendCodePoint(range[0] + r.nextInt(range[1] - range[0] + 1));
        }
        roundTripInTime("100 KB of random code points (seed 7)", sb.toString());
    }
}
