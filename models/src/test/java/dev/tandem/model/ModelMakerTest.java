package dev.tandem.model;

import dev.tandem.gguf.GgufArray;
import dev.tandem.gguf.GgufFile;
import dev.tandem.gguf.GgufValueType;
import dev.tandem.gguf.TensorInfo;
import dev.tandem.kernels.Formats;
import dev.tandem.kernels.GgmlType;
import dev.tandem.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelMakerTest {
    @TempDir
    Path dir;

    private static ModelMaker.Spec tiny(String arch, GgmlType type, int headDim, boolean tied) {
        return new ModelMaker.Spec(arch, 64, 2, 4, 2, 96, headDim, type, 7, null, 0, 256, tied);
    }

    @ParameterizedTest(name = "{0} {1} headDim {2} tied {3}")
    @CsvSource({"llama, F32, 0, false", "llama, Q8_0, 0, true", "qwen2, F32, 0, false", "qwen2, Q8_0, 0, false",
            "qwen3, F32, 32, true", "qwen3, Q8_0, 0, true", "llama, Q8_0, 32, false"})
    void tinyModelHasLlamaCppKeysAndShapes(String arch, GgmlType type, int headDimArg, boolean tied) throws IOException {
        ModelMaker.Spec spec = tiny(arch, type, headDimArg, tied);
        Path out = dir.resolve(arch + "-" + type + ".gguf");
        ModelMaker.make(spec, out);
        int headDim = headDimArg == 0 ? 16 : headDimArg;
        int vocab = ModelMakerVocab.builtInPieces().size();
        String at = spec.toString();
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(arch, f.getString("general.architecture"), at);
            assertEquals(32, f.getInt("general.alignment"), at);
            assertEquals(256, f.getInt(arch + ".context_length"), at);
            assertEquals(64, f.getInt(arch + ".embedding_length"), at);
            assertEquals(2, f.getInt(arch + ".block_count"), at);
            assertEquals(96, f.getInt(arch + ".feed_forward_length"), at);
            assertEquals(4, f.getInt(arch + ".attention.head_count"), at);
            assertEquals(2, f.getInt(arch + ".attention.head_count_kv"), at);
            assertEquals(GgufValueType.UINT32, f.typeOf(arch + ".attention.head_count"), at);
            assertEquals(arch.equals("llama") ? 1e-5f : 1e-6f, (float) f.getDouble(arch + ".attention.layer_norm_rms_epsilon"), at);
            assertEquals(GgufValueType.FLOAT32, f.typeOf(arch + ".rope.freq_base"), at);
            assertEquals(headDim, f.getInt(arch + ".rope.dimension_count"), at);
            boolean explicitHeadDim = arch.equals("qwen3") || headDim != 16;
            assertEquals(explicitHeadDim, f.has(arch + ".attention.key_length"), at);
            if (explicitHeadDim) {
                assertEquals(headDim, f.getInt(arch + ".attention.key_length"), at);
                assertEquals(headDim, f.getInt(arch + ".attention.value_length"), at);
            }
            assertEquals(type == GgmlType.F32 ? 0 : 7, f.getInt("general.file_type"), at);
            assertEquals(vocab, f.getInt(arch + ".vocab_size"), at);
            assertEquals("llama", f.getString("tokenizer.ggml.model"), at);
            assertEquals(vocab, f.getArray("tokenizer.ggml.tokens").length(), at);
            assertEquals(1, f.getInt("tokenizer.ggml.bos_token_id"), at);
            assertEquals(2, f.getInt("tokenizer.ggml.eos_token_id"), at);
            assertEquals(0, f.getInt("tokenizer.ggml.unknown_token_id"), at);
            assertTrue(f.getBoolean("tokenizer.ggml.add_bos_token", false), at);

            // tensors: names, order, GGML dims {cols, rows}, types
            List<String> names = new ArrayList<>();
            List<String> expected = new ArrayList<>(List.of("token_embd.weight"));
            for (int l = 0; l < 2; l++) {
                String b = "blk." + l + ".";
                expected.addAll(List.of(b + "attn_norm.weight", b + "attn_q.weight", b + "attn_k.weight", b + "attn_v.weight"));
                if (arch.equals("qwen2")) {
                    expected.addAll(List.of(b + "attn_q.bias", b + "attn_k.bias", b + "attn_v.bias"));
                }
                if (arch.equals("qwen3")) {
                    expected.addAll(List.of(b + "attn_q_norm.weight", b + "attn_k_norm.weight"));
                }
                expected.addAll(List.of(b + "attn_output.weight", b + "ffn_norm.weight", b + "ffn_gate.weight", b + "ffn_up.weight",
                        b + "ffn_down.weight"));
            }
            expected.add("output_norm.weight");
            if (!tied) {
                expected.add("output.weight");
            }
            names.addAll(f.tensors().keySet());
            assertEquals(expected, names, at);
            assertShape(f, "token_embd.weight", type, 64, vocab);
            assertShape(f, "blk.1.attn_norm.weight", GgmlType.F32, 64);
            assertShape(f, "blk.1.attn_q.weight", type, 64, 4 * headDim);
            assertShape(f, "blk.1.attn_k.weight", type, 64, 2 * headDim);
            assertShape(f, "blk.1.attn_v.weight", type, 64, 2 * headDim);
            assertShape(f, "blk.1.attn_output.weight", type, 4 * headDim, 64);
            assertShape(f, "blk.1.ffn_gate.weight", type, 64, 96);
            assertShape(f, "blk.1.ffn_up.weight", type, 64, 96);
            assertShape(f, "blk.1.ffn_down.weight", type, 96, 64);
            assertShape(f, "output_norm.weight", GgmlType.F32, 64);
            if (!tied) {
                assertShape(f, "output.weight", type, 64, vocab);
            }
            if (arch.equals("qwen2")) {
                assertShape(f, "blk.0.attn_q.bias", GgmlType.F32, 4 * headDim);
                assertShape(f, "blk.0.attn_k.bias", GgmlType.F32, 2 * headDim);
                assertShape(f, "blk.0.attn_v.bias", GgmlType.F32, 2 * headDim);
            }
            if (arch.equals("qwen3")) {
                assertShape(f, "blk.0.attn_q_norm.weight", GgmlType.F32, headDim);
                assertShape(f, "blk.0.attn_k_norm.weight", GgmlType.F32, headDim);
            }
        }
    }

    private static void assertShape(GgufFile f, String name, GgmlType type, long... dims) {
        TensorInfo t = f.tensor(name);
        assertEquals(type, t.type(), name);
        assertArrayEquals(dims, t.dims(), name + " " + t.shape());
    }

    /** Mean and standard deviation of a tensor's dequantized values. */
    private static double[] stats(GgufFile f, String name) {
        TensorInfo t = f.tensor(name);
        float[] v = new float[(int) t.elements()];
        Formats.of(t.type()).dequantize(t.data(), 0, v, 0, v.length);
        double s = 0, s2 = 0;
        for (float x : v) {
            s += x;
            s2 += (double) x * x;
        }
        double mean = s / v.length;
        return new double[] {mean, Math.sqrt(s2 / v.length - mean * mean)};
    }

    @Test
    void weightsHaveTheDocumentedScales() throws IOException {
        // dim 256 so every matrix has at least 64 K samples: the standard error of a std is then < 0.3 %
        ModelMaker.Spec spec = new ModelMaker.Spec("qwen2", 256, 1, 4, 2, 512, 0, GgmlType.F32, 3, null, 512, 128, false);
        Path out = dir.resolve("scales.gguf");
        ModelMaker.make(spec, out);
        try (GgufFile f = GgufFile.open(out)) {
            assertStats(f, "token_embd.weight", 0, 1.0);
            assertStats(f, "blk.0.attn_q.weight", 0, 1 / Math.sqrt(256));
            assertStats(f, "blk.0.attn_output.weight", 0, 1 / Math.sqrt(256));
            assertStats(f, "blk.0.ffn_down.weight", 0, 1 / Math.sqrt(512));
            assertStats(f, "output.weight", 0, 4 / Math.sqrt(256));
            // 256 samples: mean within 4 standard errors (0.1 / 16 each), std within 20 %
            double[] norm = stats(f, "blk.0.attn_norm.weight");
            assertEquals(1.0, norm[0], 4 * 0.1 / 16, "attn_norm mean");
            assertEquals(0.1, norm[1], 0.02, "attn_norm std");
            double[] bias = stats(f, "blk.0.attn_q.bias");
            assertEquals(0.0, bias[0], 4 * 0.1 / 16, "attn_q.bias mean");
            assertEquals(0.1, bias[1], 0.02, "attn_q.bias std");
        }
        ModelMaker.Spec tied = new ModelMaker.Spec("llama", 256, 1, 4, 2, 512, 0, GgmlType.Q8_0, 3, null, 512, 128, true);
        ModelMaker.make(tied, out);
        try (GgufFile f = GgufFile.open(out)) {
            assertStats(f, "token_embd.weight", 0, 1.6 / Math.sqrt(256)); // Q8_0 rounding adds < 1 % at this scale
        }
    }

    private static void assertStats(GgufFile f, String name, double mean, double std) {
        double[] s = stats(f, name);
        long n = f.tensor(name).elements();
        // mean within 5 standard errors; std within 2 %
        assertEquals(mean, s[0], 5 * std / Math.sqrt(n), name + " mean (n " + n + ")");
        assertEquals(std, s[1], 0.02 * std, name + " std (n " + n + ")");
    }

    private static String sha256(Path p) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void sameSpecGivesTheSameBytes() throws IOException {
        for (ModelMaker.Spec spec : List.of(tiny("qwen3", GgmlType.Q8_0, 32, true), tiny("qwen2", GgmlType.F32, 0, false))) {
            Path a = dir.resolve("a.gguf");
            Path b = dir.resolve("b.gguf");
            ModelMaker.make(spec, a);
            ModelMaker.make(spec, b);
            assertEquals(sha256(a), sha256(b), spec.toString());
            ModelMaker.Spec other = new ModelMaker.Spec(spec.arch(), spec.dim(), spec.layers(), spec.heads(), spec.kvHeads(), spec.ffn(),
                    spec.headDim(), spec.type(), spec.seed() + 1, null, 0, spec.contextLength(), spec.tiedOutput());
            ModelMaker.make(other, b);
            assertNotEquals(sha256(a), sha256(b), "seed " + other.seed() + " vs " + spec.seed());
        }
    }

    @Test
    void builtInVocabularyIsByteFallbackSentencePiece() throws IOException {
        List<String> pieces = ModelMakerVocab.builtInPieces();
        assertEquals(pieces.size(), new HashSet<>(pieces).size(), "no duplicate pieces");
        assertEquals(List.of("<unk>", "<s>", "</s>", "<0x00>"), pieces.subList(0, 4));
        assertEquals("<0x41>", pieces.get(3 + 0x41));
        assertEquals("<0xFF>", pieces.get(258));
        int normal = pieces.size() - ModelMakerVocab.BUILT_IN_MINIMUM;
        assertTrue(normal >= 300 && normal <= 1500, normal + " normal pieces");
        Set<String> all = Set.copyOf(pieces);
        for (String w : List.of("▁the", "▁Once", "▁upon", "▁a", "▁time", "ing", "▁", "e", "T")) {
            assertTrue(all.contains(w), w);
        }
        // each multi-character piece extends a shorter piece by one character, so SentencePiece merges can reach it
        for (String p : pieces.subList(ModelMakerVocab.BUILT_IN_MINIMUM, pieces.size())) {
            int cut = p.offsetByCodePoints(p.length(), -1);
            if (cut > 0) {
                assertTrue(all.contains(p.substring(0, cut)), "prefix of " + p);
            }
        }

        Path out = dir.resolve("padded.gguf");
        ModelMaker.make(new ModelMaker.Spec("llama", 32, 1, 2, 1, 32, 0, GgmlType.F32, 1, null, pieces.size() + 3, 64, true), out);
        try (GgufFile f = GgufFile.open(out)) {
            String[] tokens = f.getArray("tokenizer.ggml.tokens").strings();
            int[] types = f.getArray("tokenizer.ggml.token_type").ints();
            float[] scores = f.getArray("tokenizer.ggml.scores").floats();
            assertEquals(pieces.size() + 3, tokens.length);
            assertEquals(List.copyOf(pieces), List.of(tokens).subList(0, pieces.size()));
            assertEquals("[PAD" + (pieces.size() + 2) + "]", tokens[tokens.length - 1]);
            assertEquals(2, types[0]);
            assertEquals(3, types[1]);
            assertEquals(3, types[2]);
            for (int id = 3; id < 259; id++) {
                assertEquals(6, types[id], "byte token " + id);
            }
            assertEquals(1, types[259]);
            assertEquals(4, types[tokens.length - 1]);
            assertTrue(scores[259] > scores[pieces.size() - 1], "earlier pieces score higher");
            assertEquals(pieces.size() + 3, f.tensor("token_embd.weight").dims()[1]);
        }
        ModelMaker.make(new ModelMaker.Spec("llama", 32, 1, 2, 1, 32, 0, GgmlType.F32, 1, null, 300, 64, true), out);
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(List.copyOf(pieces.subList(0, 300)), List.of(f.getArray("tokenizer.ggml.tokens").strings()));
        }
    }

    @Test
    void vocabularyIsCopiedFromAVocabFileAndPadded() throws IOException {
        Path vocab = Shared.model("vocab/ggml-vocab-llama-spm.gguf");
        Path out = dir.resolve("spm.gguf");
        ModelMaker.make(new ModelMaker.Spec("llama", 32, 1, 2, 2, 32, 0, GgmlType.Q8_0, 1, vocab, 32005, 64, false), out);
        try (GgufFile src = GgufFile.open(vocab); GgufFile f = GgufFile.open(out)) {
            for (String key : src.metadata().keySet()) {
                if (!key.startsWith("tokenizer.")) {
                    continue;
                }
                assertEquals(src.typeOf(key), f.typeOf(key), key);
                if (!(src.metadata().get(key) instanceof GgufArray)) {
                    assertEquals(src.metadata().get(key), f.metadata().get(key), key);
                }
            }
            String[] tokens = f.getArray("tokenizer.ggml.tokens").strings();
            assertEquals(32005, tokens.length);
            assertEquals(List.of(src.getArray("tokenizer.ggml.tokens").strings()), List.of(tokens).subList(0, 32000));
            assertEquals("[PAD32000]", tokens[32000]);
            assertEquals("[PAD32004]", tokens[32004]);
            assertEquals(4, f.getArray("tokenizer.ggml.token_type").ints()[32004]);
            assertEquals(32005, f.getArray("tokenizer.ggml.scores").length());
            assertEquals(32005, f.getInt("llama.vocab_size"));
            assertEquals(1, f.getInt("llama.block_count"), "the vocabulary file's model keys are not copied");
            assertTrue(f.getString("general.name").startsWith("tandem-random-llama"), f.getString("general.name"));
            assertArrayEquals(new long[] {32, 32005}, f.tensor("output.weight").dims());
        }
        Path gpt2 = Shared.model("vocab/ggml-vocab-gpt-2.gguf");
        ModelMaker.make(new ModelMaker.Spec("qwen2", 32, 1, 2, 2, 32, 0, GgmlType.Q8_0, 1, gpt2, 0, 64, true), out);
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals("gpt2", f.getString("tokenizer.ggml.model"));
            assertEquals(50000, f.getArray("tokenizer.ggml.merges").length());
            assertEquals(50257, f.getInt("qwen2.vocab_size"));
            assertArrayEquals(new long[] {32, 50257}, f.tensor("token_embd.weight").dims());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelMaker.make(
                new ModelMaker.Spec("llama", 32, 1, 2, 2, 32, 0, GgmlType.F32, 1, vocab, 1000, 64, false), out));
        assertEquals("vocabulary size 1000 is smaller than the 32000 tokens of " + vocab, e.getMessage());
    }

    @Test
    void badSpecsAreRefusedWithTheParameterNamed() {
        Path out = dir.resolve("never.gguf");
        assertRefused(new ModelMaker.Spec("gpt2", 64, 1, 4, 2, 64, 0, GgmlType.F32, 1, null, 0, 64, false), out,
                "architecture gpt2 is not one of llama, qwen2, qwen3");
        assertRefused(new ModelMaker.Spec("llama", 64, 1, 4, 3, 64, 0, GgmlType.F32, 1, null, 0, 64, false), out,
                "4 heads are not a multiple of 3 kv heads");
        assertRefused(new ModelMaker.Spec("llama", 66, 1, 4, 2, 64, 0, GgmlType.F32, 1, null, 0, 64, false), out,
                "dim 66 is not a multiple of 4 heads");
        assertRefused(new ModelMaker.Spec("llama", 48, 1, 4, 2, 64, 0, GgmlType.Q8_0, 1, null, 0, 64, false), out,
                "dim 48 is not a multiple of the Q8_0 block size 32");
        assertRefused(new ModelMaker.Spec("llama", 64, 1, 4, 2, 80, 0, GgmlType.Q8_0, 1, null, 0, 64, false), out,
                "ffn 80 is not a multiple of the Q8_0 block size 32");
        assertRefused(new ModelMaker.Spec("llama", 64, 0, 4, 2, 64, 0, GgmlType.F32, 1, null, 0, 64, false), out,
                "layers must be positive, not 0");
        assertRefused(new ModelMaker.Spec("llama", 64, 1, 4, 2, 64, 0, GgmlType.IQ2_XXS, 1, null, 0, 64, false), out,
                "cannot write weights of type IQ2_XXS (writable: ");
        assertRefused(new ModelMaker.Spec("llama", 64, 1, 4, 2, 64, 0, GgmlType.F32, 1, null, 100, 64, false), out,
                "vocabulary size 100 is too small for the built-in vocabulary (at least 259");
        assertTrue(!Files.exists(out));
    }

    private static void assertRefused(ModelMaker.Spec spec, Path out, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelMaker.make(spec, out), spec.toString());
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' should contain '" + expected + "'");
    }
}
