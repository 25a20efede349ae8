package dev.tandem.model;

import dev.tandem.gguf.GgufException;
import dev.tandem.gguf.GgufFile;
import dev.tandem.gguf.TensorInfo;
import dev.tandem.kernels.Formats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
     * The copies take about the model's size again in memory; where the machine has not that much
     * available (three quarters of {@code MemAvailable}), nothing is repacked and the integer path keeps its
     * row-major kernels, which read the mapped file.
     */
    public void pack() {
        List<Matrix> all = new ArrayList<>();
        for (Layer l : layers) {
            all.addAll(List.of(l.wq, l.wk, l.wv, l.wo, l.gate, l.up, l.down));
        }
        all.add(output);
        long need = 0;
        for (Matrix m : all) {
            need += m.packBytes();
        }
        long available = availableMemory();
        if (need > available / 4 * 3) {
            for (Matrix m : all) {
                m.declinePacking();
            }
            System.getLogger(Weights.class.getName()).log(System.Logger.Level.WARNING,
                    "not repacking the weights for the packed q8 kernels: they need " + (need >> 20) + " MiB, "
                            + (available >> 20) + " MiB are available; q8 keeps the row-major kernels");
            return;
        }
        for (Matrix m : all) {
            m.pack();
        }
    }

    /** {@code MemAvailable} of {@code /proc/meminfo} in bytes, or {@code Long.MAX_VALUE} where it cannot be read. */
    private static long availableMemory() {
        try (var lines = Files.lines(Path.of("/proc/meminfo"))) {
            return lines.filter(l -> l.startsWith("MemAvailable:")).findFirst()
                    .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024).orElse(Long.MAX_VALUE);
        } catch (IOException | RuntimeException e) {
            return Long.MAX_VALUE;
        }
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
