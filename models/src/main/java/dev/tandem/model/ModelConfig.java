package dev.tandem.model;

import dev.tandem.gguf.GgufException;
import dev.tandem.gguf.GgufFile;

/**
 * The shape and constants of a model, read from GGUF metadata alone.
 *
 * @param headDim   dims per attention head: {@code <arch>.attention.key_length}, else dim / heads
 * @param ropeDim   leading dims of each head that RoPE rotates ({@code <arch>.rope.dimension_count}, else headDim)
 */
public record ModelConfig(
        Architecture arch,
        String name,
        int dim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int ffn,
        int vocab,
        int contextLength,
        float rmsEps,
        double ropeBase,
        int ropeDim,
        boolean tiedOutput) {

    /** Query width: heads × headDim. */
    public int qDim() {
        return heads * headDim;
    }

    /** Key/value width: kvHeads × headDim. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    public static ModelConfig from(GgufFile f) {
        String archName = f.getString("general.architecture");
        Architecture arch;
        try {
            arch = Architecture.of(archName);
        } catch (IllegalArgumentException e) {
            throw new GgufException(f.path() + ": " + e.getMessage());
        }
        String p = archName + ".";
        int dim = positive(f, p + "embedding_length");
        int layers = positive(f, p + "block_count");
        int heads = positive(f, p + "attention.head_count");
        int kvHeads = f.has(p + "attention.head_count_kv") ? positive(f, p + "attention.head_count_kv") : heads;
        if (heads % kvHeads != 0) {
            throw new GgufException(f.path() + ": attention.head_count " + heads + " is not a multiple of head_count_kv " + kvHeads);
        }
        int headDim = f.has(p + "attention.key_length") ? positive(f, p + "attention.key_length") : dim / heads;
        int valueDim = f.has(p + "attention.value_length") ? positive(f, p + "attention.value_length") : headDim;
        if (valueDim != headDim) {
            throw new GgufException(f.path() + ": attention.value_length " + valueDim + " differs from key_length " + headDim + " (not supported)");
        }
        if (headDim % 2 != 0) {
            throw new GgufException(f.path() + ": head dimension " + headDim + " is odd; RoPE needs pairs");
        }
        int ffn = positive(f, p + "feed_forward_length");
        int contextLength = f.getInt(p + "context_length", 4096);
        float eps = (float) f.getDouble(p + "attention.layer_norm_rms_epsilon", 1e-5);
        double ropeBase = f.getDouble(p + "rope.freq_base", 10000.0);
        int ropeDim = f.getInt(p + "rope.dimension_count", headDim);
        if (ropeDim > headDim || ropeDim % 2 != 0) {
            throw new GgufException(f.path() + ": rope.dimension_count " + ropeDim + " must be even and at most the head dimension " + headDim);
        }
        var embd = f.tensor("token_embd.weight");
        if (embd.dim(0) != dim) {
            throw new GgufException(f.path() + ": token_embd.weight is " + embd.shape() + ", expected " + dim + " columns");
        }
        int vocab = Math.toIntExact(embd.dim(1));
        boolean tied = f.tensorOrNull("output.weight") == null;
        String name = f.getString("general.name", archName);
        return new ModelConfig(arch, name, dim, layers, heads, kvHeads, headDim, ffn, vocab, contextLength, eps,
                ropeBase, ropeDim, tied);
    }

    private static int positive(GgufFile f, String key) {
        int v = f.getInt(key);
        if (v <= 0) {
            throw new GgufException(f.path() + ": metadata " + key + " must be positive, not " + v);
        }
        return v;
    }
}
