package dev.tandem.model;

import dev.tandem.kernels.Parallel;
import dev.tandem.testing.Shared;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DESIGN.md invariant 2: a position's logits are bitwise identical in prefill or decode, with any
 * prefill chunk size, alone or batched with other sequences, at any thread count — on the F32
 * kernels and on the integer path ({@code --kernels q8}) alike.
 */
class BatchInvarianceTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama31-f32.gguf", "llama31-q8_0.gguf", "qwen2-q8_0.gguf", "qwen3-f32.gguf"})
    void prefillDecodeChunksAndBatchesAgreeBitwise(String file) {
        check(file, KvCache.Type.F32, Kernels.F32);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama31-q8_0.gguf", "qwen3-f32.gguf"})
    void sameWithAnF16KvCache(String file) {
        check(file, KvCache.Type.F16, Kernels.F32);
    }

    /**
     * Q8_0 and Q4_0 weights; llama-spm-q4_0 adds head dim 64 and a tied 32000-row Q6_K output; the Q4_K_M
     * files run Q4_K and Q6_K through the K-quant kernels and their prefill tile.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama31-q8_0.gguf", "llama31-q4_0.gguf", "qwen2-q8_0.gguf", "llama-spm-q4_0.gguf",
            "llama31-q4_k_m.gguf", "qwen3-q4_k_m.gguf"})
    void sameOnTheIntegerPath(String file) {
        check(file, KvCache.Type.F32, Kernels.Q8);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama31-q8_0.gguf"})
    void sameOnTheIntegerPathWithAnF16KvCache(String file) {
        check(file, KvCache.Type.F16, Kernels.Q8);
    }

    private static void check(String file, KvCache.Type kvType, Kernels kernels) {
        Path path = Shared.model("ref/" + file);
        try (Model model = Model.load(path)) {
            if (kernels == Kernels.Q8) {
                assertTrue(Kernels.integerMatrices(model) > 0, file + " has no matrix on the integer path: the q8 check would be the f32 one");
            }
            kernels.run(() -> checkRuns(file, model, kvType));
        }
    }

    /** The invariance checks, on whichever kernels the caller has switched on. */
    private static void checkRuns(String file, Model model, KvCache.Type kvType) {
        ModelConfig c = model.config();
        int vocab = c.vocab();
        int n = 40;
        int[] a = randomTokens(n, vocab, 1);
        int[] b = randomTokens(n, vocab, 2);

        float[] whole = ReferenceLogitsTest.prefillAll(model, a, 64, 1, kvType);
        assertArrayEquals(whole, ReferenceLogitsTest.prefillAll(model, a, 7, 2, kvType), "prefill chunk 7 on 2 threads vs chunk 64 on 1");
        assertArrayEquals(whole, ReferenceLogitsTest.prefillAll(model, a, 1, 2, kvType), "prefill chunk 1");

        // Decode: sequence a alone after a 5-token prefill; then a and b decoded together in one batch.
        KvCache kv = KvCache.forPositions(c, 2 * n + 32, 16, kvType);
        Sequence sa = new Sequence(n, 16), sb = new Sequence(n, 16);
        assertTrue(kv.reserve(sa, n) && kv.reserve(sb, n));
        float[] last = new float[vocab];
        float[] two = new float[2 * vocab];
        try (Parallel pool = new Parallel(2, "test")) {
            Forward fw = new Forward(model, kv, pool, 8);
            fw.prefill(sa, a, 0, 5, last, false);
            assertArrayEquals(Arrays.copyOfRange(whole, 4 * vocab, 5 * vocab), last, "prefill last-position logits");
            fw.prefill(sb, b, 0, 3, null, false);
            for (int i = 5; i < n; i++) {
                if (i < 3 + (n - 5) && sb.length() < n) {
                    fw.decode(new Sequence[] {sa, sb}, new int[] {a[i], b[sb.length()]}, 2, two);
                    System.arraycopy(two, 0, last, 0, vocab);
                } else {
                    fw.decode(new Sequence[] {sa}, new int[] {a[i]}, 1, last);
                }
                final int pos = i;
                assertArrayEquals(Arrays.copyOfRange(whole, pos * vocab, (pos + 1) * vocab), last,
                        () -> file + ": decode logits at position " + pos + " differ from prefill");
            }
        }
        kv.release(sa);
        kv.release(sb);
        assertTrue(kv.freePages() == kv.pages, "all KV pages returned");
    }

    private static int[] randomTokens(int n, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(vocab);
        }
        return t;
    }
}
