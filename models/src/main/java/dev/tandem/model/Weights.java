package dev.tandem.model;

import dev.tandem.gguf.GgufException;
import dev.tandem.gguf.GgufFile;
import dev.tandem.gguf.TensorInfo;
import dev.tandem.kernels.Formats;

/**
 * A model's weights: matrices stay mapped in the file (never copied); the small vectors (norms,
 * biases, RoPE factors) are decoded to F32 arrays once at load.
 */
public final class Weights {
    /** One transformer block. */
    public record Layer(
            float[] attnNorm,   // [dim]
            Matrix wq,          // [qDim × dim]
            Matrix wk,          // [kvDim × dim]
            Matrix wv,          // [kvDim × dim]
            Matrix wo,          // [dim × qDim]
            float[] bq,         // [qDim] or null
            float[] bk,         // [kvDim] or null
            float[] bv,         // [kvDim] or null
            float[] qNorm,      // [headDim] or null (qwen3)
            float[] kNorm,      // [headDim] or null (qwen3)
            float[] ffnNorm,    // [dim]
            Matrix gate,        // [ffn × dim]
            Matrix up,          // [ffn × dim]
            Matrix down) {      // [dim × ffn]
    }

    public final Matrix tokenEmbedding;   // [vocab × dim]
    public final Layer[] layers;          // [layers]
    public final float[] outputNorm;      // [dim]
    public final Matrix output;           // [vocab × dim], token_embd when tied
    public final float[] ropeFreqFactors; // [ropeDim / 2] or null (Llama 3.1 rope_freqs)

    private Weights(Matrix tokenEmbedding, Layer[] layers, float[] outputNorm, Matrix output, float[] ropeFreqFactors) {
        this.tokenEmbedding = tokenEmbedding;
        this.layers = layers;
        this.outputNorm = outputNorm;
        this.output = output;
        this.ropeFreqFactors = ropeFreqFactors;
    }

    public static Weights load(GgufFile f, ModelConfig c) {
        Matrix embd = Matrix.of(f.tensor("token_embd.weight"), c.vocab(), c.dim());
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < c.layers(); i++) {
            String p = "blk." + i + ".";
            boolean bias = c.arch().qkvBias;
            boolean qk = c.arch().qkNorm;
            layers[i] = new Layer(
                    vector(f, p + "attn_norm.weight", c.dim()),
                    Matrix.of(f.tensor(p + "attn_q.weight"), c.qDim(), c.dim()),
                    Matrix.of(f.tensor(p + "attn_k.weight"), c.kvDim(), c.dim()),
                    Matrix.of(f.tensor(p + "attn_v.weight"), c.kvDim(), c.dim()),
                    Matrix.of(f.tensor(p + "attn_output.weight"), c.dim(), c.qDim()),
                    bias ? optionalVector(f, p + "attn_q.bias", c.qDim()) : null,
                    bias ? optionalVector(f, p + "attn_k.bias", c.kvDim()) : null,
                    bias ? optionalVector(f, p + "attn_v.bias", c.kvDim()) : null,
                    qk ? vector(f, p + "attn_q_norm.weight", c.headDim()) : null,
                    qk ? vector(f, p + "attn_k_norm.weight", c.headDim()) : null,
                    vector(f, p + "ffn_norm.weight", c.dim()),
                    Matrix.of(f.tensor(p + "ffn_gate.weight"), c.ffn(), c.dim()),
                    Matrix.of(f.tensor(p + "ffn_up.weight"), c.ffn(), c.dim()),
                    Matrix.of(f.tensor(p + "ffn_down.weight"), c.dim(), c.ffn()));
        }
        float[] outNorm = vector(f, "output_norm.weight", c.dim());
        Matrix output = c.tiedOutput() ? embd : Matrix.of(f.tensor("output.weight"), c.vocab(), c.dim());
        float[] freqs = optionalVector(f, "rope_freqs.weight", c.ropeDim() / 2);
        Weights w = new Weights(embd, layers, outNorm, output, freqs);
        w.pack();
        return w;
    }

    /**
     * Repacks, now, the matrices that the integer path's packed kernels read (none unless
     * {@code --kernels q8} is on and the processor has them), so that the first request does not pay it.
     */
    public void pack() {
        for (Layer l : layers) {
            for (Matrix m : new Matrix[]{l.wq, l.wk, l.wv, l.wo, l.gate, l.up, l.down}) {
                m.pack();
            }
        }
        output.pack();
    }

    private static float[] optionalVector(GgufFile f, String name, int n) {
        return f.tensorOrNull(name) == null ? null : vector(f, name, n);
    }

    private static float[] vector(GgufFile f, String name, int n) {
        TensorInfo t = f.tensor(name);
        if (t.elements() != n) {
            throw new GgufException(f.path() + ": tensor " + name + " is " + t.shape() + ", expected " + n + " elements");
        }
        float[] v = new float[n];
        try {
            Formats.of(t.type()).dequantize(t.data(), 0, v, 0, n);
        } catch (UnsupportedOperationException e) {
            throw new GgufException(f.path() + ": tensor " + name + ": " + e.getMessage());
        }
        return v;
    }
}
