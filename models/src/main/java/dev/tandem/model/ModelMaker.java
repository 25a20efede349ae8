package dev.tandem.model;

import dev.tandem.gguf.GgufWriter;
import dev.tandem.gguf.TensorInfo;
import dev.tandem.kernels.Format;
import dev.tandem.kernels.Formats;
import dev.tandem.kernels.GgmlType;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Makes a random-weight model GGUF of any shape (the engine of {@code tandem make-model}): the
 * llama.cpp metadata keys and tensor names of a {@code llama}, {@code qwen2} or {@code qwen3}
 * model, seeded weights scaled so activations and logits stay O(1), and a vocabulary copied
 * from a vocabulary GGUF or built in. The same {@link Spec} always gives the same bytes.
 *
 * <p>Weights follow the recipe of the reference models: matrices N(0, 1/fan_in); token
 * embeddings N(0, 1) with a separate output matrix of N(0, 16/dim), or N(0, 2.56/dim) when the
 * output is tied to them; norm weights 1 + N(0, 0.01); biases N(0, 0.01). Tensors stream to the
 * file one at a time, generated one row at a time: only a row of floats is ever on the heap.
 */
public final class ModelMaker {
    public static final Set<String> ARCHITECTURES = Set.of("llama", "qwen2", "qwen3");

    /**
     * The shape of a model. {@code kvHeads} 0 means {@code heads}; {@code headDim} 0 means
     * {@code dim / heads}; {@code vocabGguf} null means the built-in vocabulary; {@code vocabSize}
     * 0 means the vocabulary's own size (larger pads it with {@code [PAD{id}]} tokens).
     */
    public record Spec(String arch, int dim, int layers, int heads, int kvHeads, int ffn, int headDim, GgmlType type,
                       long seed, Path vocabGguf, int vocabSize, int contextLength, boolean tiedOutput) {

        public int resolvedKvHeads() {
            return kvHeads == 0 ? heads : kvHeads;
        }

        public int resolvedHeadDim() {
            return headDim != 0 ? headDim : heads > 0 ? dim / heads : 0;
        }

        /** Throws IllegalArgumentException with a one-line message naming the first bad parameter. */
        public void validate() {
            if (arch == null || !ARCHITECTURES.contains(arch)) {
                throw new IllegalArgumentException("architecture " + arch + " is not one of llama, qwen2, qwen3");
            }
            positive("dim", dim);
            positive("layers", layers);
            positive("heads", heads);
            positive("ffn", ffn);
            positive("context length", contextLength);
            if (kvHeads < 0 || headDim < 0 || vocabSize < 0) {
                throw new IllegalArgumentException("kv heads, head dim and vocabulary size must not be negative");
            }
            if (heads % resolvedKvHeads() != 0) {
                throw new IllegalArgumentException(heads + " heads are not a multiple of " + resolvedKvHeads() + " kv heads");
            }
            if (headDim == 0 && dim % heads != 0) {
                throw new IllegalArgumentException("dim " + dim + " is not a multiple of " + heads + " heads; give the head dim");
            }
            if (type == null || !Formats.supported(type) || !Formats.of(type).canQuantize()) {
                throw new IllegalArgumentException("cannot write weights of type " + type + " (writable: " + writableTypes() + ")");
            }
            long qDim = (long) heads * resolvedHeadDim();
            if (qDim > 1 << 24 || (long) resolvedKvHeads() * resolvedHeadDim() > 1 << 24) {
                throw new IllegalArgumentException("heads × head dim " + qDim + " is too large");
            }
            wholeBlocks("dim", dim);
            wholeBlocks("heads × head dim", qDim);
            wholeBlocks("ffn", ffn);
        }

        /** Every matrix row (GGML dims[0]) is dim, heads × head dim or ffn wide: each a whole number of blocks. */
        private void wholeBlocks(String what, long n) {
            if (n % type.blockSize != 0) {
                throw new IllegalArgumentException(what + " " + n + " is not a multiple of the " + type + " block size " + type.blockSize);
            }
        }

        private static void positive(String what, int v) {
            if (v <= 0) {
                throw new IllegalArgumentException(what + " must be positive, not " + v);
            }
        }
    }

    /** How one tensor's values are drawn. */
    private enum Kind { MATRIX, EMBEDDING, NORM, BIAS }

    /** One planned tensor: GGML dims {cols, rows} (or {n}), its type, and how to fill it. */
    private record Planned(Kind kind, GgmlType type, int cols, int rows, double std) {}

    private ModelMaker() {}

    /** The GGML types {@link #make} can write with the kernels present. */
    public static List<GgmlType> writableTypes() {
        return Arrays.stream(GgmlType.values()).filter(t -> Formats.supported(t) && Formats.of(t).canQuantize()).toList();
    }

    /** Writes the model of {@code spec} to {@code out}. */
    public static void make(Spec spec, Path out) throws IOException {
        spec.validate();
        GgufWriter w = new GgufWriter();
        int vocab = metadata(spec, w);
        Map<String, Planned> plan = tensors(spec, vocab);
        plan.forEach((name, p) -> {
            if (p.rows == 0) {
                w.addTensor(name, p.type, p.cols);
            } else {
                w.addTensor(name, p.type, p.cols, p.rows);
            }
        });
        w.write(out, (t, dst) -> fill(spec.seed, t, plan.get(t.name()), dst));
    }

    private static int metadata(Spec s, GgufWriter w) {
        String a = s.arch;
        int headDim = s.resolvedHeadDim();
        boolean qwen = !a.equals("llama");
        w.putString("general.architecture", a);
        w.putString("general.name", String.format("tandem-random-%s-%dd-%dL-%s-seed%d", a, s.dim, s.layers, s.type, s.seed));
        w.putUint32("general.alignment", 32);
        int fileType = switch (s.type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            default -> -1;
        };
        if (fileType >= 0) {
            w.putUint32("general.file_type", fileType);
        }
        if (s.type.blockSize > 1) {
            w.putUint32("general.quantization_version", 2);
        }
        w.putUint32(a + ".context_length", s.contextLength);
        w.putUint32(a + ".embedding_length", s.dim);
        w.putUint32(a + ".block_count", s.layers);
        w.putUint32(a + ".feed_forward_length", s.ffn);
        w.putUint32(a + ".attention.head_count", s.heads);
        w.putUint32(a + ".attention.head_count_kv", s.resolvedKvHeads());
        w.putFloat32(a + ".attention.layer_norm_rms_epsilon", qwen ? 1e-6f : 1e-5f);
        w.putFloat32(a + ".rope.freq_base", qwen ? 1_000_000f : 10_000f);
        w.putUint32(a + ".rope.dimension_count", headDim);
        if (a.equals("qwen3") || headDim * s.heads != s.dim) {
            w.putUint32(a + ".attention.key_length", headDim);
            w.putUint32(a + ".attention.value_length", headDim);
        }
        int vocab = ModelMakerVocab.write(w, s.vocabGguf, s.vocabSize);
        w.putUint32(a + ".vocab_size", vocab);
        return vocab;
    }

    /** Every tensor in file order, with llama.cpp's names. */
    private static Map<String, Planned> tensors(Spec s, int vocab) {
        Map<String, Planned> p = new LinkedHashMap<>();
        int qDim = s.heads * s.resolvedHeadDim();
        int kvDim = s.resolvedKvHeads() * s.resolvedHeadDim();
        double embStd = s.tiedOutput ? 1.6 / Math.sqrt(s.dim) : 1.0;
        p.put("token_embd.weight", new Planned(Kind.EMBEDDING, s.type, s.dim, vocab, embStd));     // [vocab][dim]
        for (int l = 0; l < s.layers; l++) {
            String b = "blk." + l + ".";
            p.put(b + "attn_norm.weight", norm(s.dim));
            p.put(b + "attn_q.weight", matrix(s, s.dim, qDim));                                  // [heads * headDim][dim]
            p.put(b + "attn_k.weight", matrix(s, s.dim, kvDim));                                 // [kvHeads * headDim][dim]
            p.put(b + "attn_v.weight", matrix(s, s.dim, kvDim));
            if (s.arch.equals("qwen2")) {
                p.put(b + "attn_q.bias", new Planned(Kind.BIAS, GgmlType.F32, qDim, 0, 0.1));
                p.put(b + "attn_k.bias", new Planned(Kind.BIAS, GgmlType.F32, kvDim, 0, 0.1));
                p.put(b + "attn_v.bias", new Planned(Kind.BIAS, GgmlType.F32, kvDim, 0, 0.1));
            }
            if (s.arch.equals("qwen3")) {
                p.put(b + "attn_q_norm.weight", norm(s.resolvedHeadDim()));
                p.put(b + "attn_k_norm.weight", norm(s.resolvedHeadDim()));
            }
            p.put(b + "attn_output.weight", matrix(s, qDim, s.dim));                             // [dim][heads * headDim]
            p.put(b + "ffn_norm.weight", norm(s.dim));
            p.put(b + "ffn_gate.weight", matrix(s, s.dim, s.ffn));                               // [ffn][dim]
            p.put(b + "ffn_up.weight", matrix(s, s.dim, s.ffn));
            p.put(b + "ffn_down.weight", matrix(s, s.ffn, s.dim));                               // [dim][ffn]
        }
        p.put("output_norm.weight", norm(s.dim));
        if (!s.tiedOutput) {
            p.put("output.weight", new Planned(Kind.MATRIX, s.type, s.dim, vocab, 4.0 / Math.sqrt(s.dim))); // [vocab][dim]
        }
        return p;
    }

    private static Planned matrix(Spec s, int cols, int rows) {
        return new Planned(Kind.MATRIX, s.type, cols, rows, 1.0 / Math.sqrt(cols));
    }

    private static Planned norm(int n) {
        return new Planned(Kind.NORM, GgmlType.F32, n, 0, 0.1);
    }

    /** Generates a tensor row by row into its mapped bytes. */
    private static void fill(long seed, TensorInfo t, Planned p, MemorySegment dst) {
        ModelMakerRandom r = ModelMakerRandom.forTensor(seed, t.name());
        Format f = Formats.of(p.type);
        float[] row = new float[p.cols];
        long rowBytes = f.rowBytes(p.cols);
        double mean = p.kind == Kind.NORM ? 1.0 : 0.0;
        for (int i = 0; i < Math.max(1, p.rows); i++) {
            for (int c = 0; c < p.cols; c++) {
                row[c] = (float) (mean + p.std * r.nextGaussian());
            }
            f.quantize(row, 0, p.cols, dst, i * rowBytes);
        }
    }
}
