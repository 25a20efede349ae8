package dev.tandem.gguf;

import dev.tandem.kernels.GgmlType;
import dev.tandem.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reference files in ../shared/models (made by gguf-py and llama.cpp) open and hold what MANIFEST.md says. */
class GgufRealFilesTest {
    @TempDir
    Path dir;

    private static List<Path> ggufs(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".gguf")).sorted().toList();
        }
    }

    @Test
    void everyVocabularyOpensWithItsTokenCount() throws IOException {
        Path vocab = Shared.model("vocab");
        Map<String, Object[]> manifest = Map.of( // file -> tokenizer.ggml.model, tokenizer.ggml.pre, tokens
                "ggml-vocab-llama-spm.gguf", new Object[] {"llama", "default", 32000},
                "ggml-vocab-phi-3.gguf", new Object[] {"llama", "default", 32064},
                "ggml-vocab-gpt-2.gguf", new Object[] {"gpt2", "gpt-2", 50257},
                "ggml-vocab-falcon.gguf", new Object[] {"gpt2", "falcon", 65024},
                "ggml-vocab-mpt.gguf", new Object[] {"gpt2", "mpt", 50432},
                "ggml-vocab-starcoder.gguf", new Object[] {"gpt2", "starcoder", 49152},
                "ggml-vocab-refact.gguf", new Object[] {"gpt2", "refact", 49216},
                "ggml-vocab-deepseek-coder.gguf", new Object[] {"gpt2", "deepseek-coder", 32256},
                "ggml-vocab-deepseek-llm.gguf", new Object[] {"gpt2", "deepseek-llm", 102400});
        List<Path> files = ggufs(vocab);
        assertEquals(manifest.keySet(), names(files));
        for (Path p : files) {
            Object[] want = manifest.get(p.getFileName().toString());
            try (GgufFile f = GgufFile.open(p)) {
                assertEquals(want[0], f.getString("tokenizer.ggml.model"), p.toString());
                assertEquals(want[1], f.getString("tokenizer.ggml.pre"), p.toString());
                assertEquals(want[2], f.getArray("tokenizer.ggml.tokens").length(), p.toString());
                assertEquals(want[2], f.getArray("tokenizer.ggml.token_type").length(), p.toString());
                assertEquals(GgufValueType.UINT32, f.typeOf("tokenizer.ggml.eos_token_id"), p.toString());
                assertTrue(f.tensors().isEmpty(), p + " holds only a vocabulary");
            }
        }
        try (GgufFile f = GgufFile.open(vocab.resolve("ggml-vocab-llama-spm.gguf"))) {
            String[] tokens = f.getArray("tokenizer.ggml.tokens").strings();
            assertEquals("<unk>", tokens[0]);
            assertEquals("<0x41>", tokens[3 + 0x41]);
            assertEquals(1L, f.getLong("tokenizer.ggml.bos_token_id"));
        }
    }

    private static java.util.Set<String> names(List<Path> files) {
        return files.stream().map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet());
    }

    @Test
    void everyReferenceModelOpensWithTheManifestShape() throws IOException {
        List<Path> files = ggufs(Shared.model("ref"));
        assertEquals(18, files.size(), files.toString());
        for (Path p : files) {
            String name = p.getFileName().toString();
            String arch = name.startsWith("qwen2") ? "qwen2" : name.startsWith("qwen3") ? "qwen3" : "llama";
            // MANIFEST.md table: heads, kv heads, ffn, vocab, tied output
            int heads = name.startsWith("llama-spm") || arch.equals("qwen2") ? 4 : 8;
            int ffn = name.startsWith("llama31") ? 512 : 768;
            int vocab = name.startsWith("llama-spm") ? 32000 : 512;
            boolean tied = name.startsWith("llama-spm") || arch.equals("qwen3");
            try (GgufFile f = GgufFile.open(p)) {
                String at = p.toString();
                assertEquals(arch, f.getString("general.architecture"), at);
                assertEquals(256, f.getInt(arch + ".embedding_length"), at);
                assertEquals(2, f.getInt(arch + ".block_count"), at);
                assertEquals(heads, f.getInt(arch + ".attention.head_count"), at);
                assertEquals(2, f.getInt(arch + ".attention.head_count_kv"), at);
                assertEquals(ffn, f.getInt(arch + ".feed_forward_length"), at);
                assertEquals(vocab, f.getArray("tokenizer.ggml.tokens").length(), at);
                assertEquals(tied, f.tensorOrNull("output.weight") == null, at + " tied output");
                assertArrayEquals(new long[] {256, vocab}, f.tensor("token_embd.weight").dims(), at);
                int tensorsPerLayer = 9 + (arch.equals("qwen2") ? 3 : arch.equals("qwen3") ? 2 : 0);
                int expectedTensors = 2 * tensorsPerLayer + 2 + (tied ? 0 : 1) + (name.startsWith("llama31") ? 1 : 0);
                assertEquals(expectedTensors, f.tensors().size(), at + " " + f.tensors().keySet());
                if (arch.equals("qwen3")) {
                    assertEquals(64, f.getInt("qwen3.attention.key_length"), at);
                    assertArrayEquals(new long[] {256, 8 * 64}, f.tensor("blk.0.attn_q.weight").dims(), at);
                }
                for (TensorInfo t : f.tensors().values()) {
                    if (t.dims().length == 1) {
                        assertEquals(GgmlType.F32, t.type(), at + " " + t.name());
                    }
                    assertEquals(t.type().bytesFor(t.elements()), t.data().byteSize(), at + " " + t.name());
                }
            }
        }
    }

    /** Copying every key (with its stored type) and tensor through the writer reproduces the file byte for byte. */
    @Test
    void rewritingReferenceFilesIsByteIdentical() throws IOException {
        for (String rel : List.of("vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-gpt-2.gguf",
                "ref/llama31-f32.gguf", "ref/qwen2-q8_0.gguf", "ref/llama31-q4_k_m.gguf", "ref/qwen3-q6_k.gguf")) {
            Path src = Shared.model(rel);
            Path out = dir.resolve(src.getFileName());
            try (GgufFile f = GgufFile.open(src)) {
                GgufWriter w = new GgufWriter();
                f.metadata().forEach((k, v) -> w.put(k, f.typeOf(k), v));
                f.tensors().values().forEach(t -> w.addTensor(t.name(), t.type(), t.dims()));
                w.write(out, (t, dst) -> MemorySegment.copy(f.tensor(t.name()).data(), 0, dst, 0, t.bytes()));
            }
            assertEquals(-1L, Files.mismatch(src, out), rel + ": first differing byte");
        }
    }
}
