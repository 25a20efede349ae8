package dev.tandem.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The model families tandem runs, named as {@code general.architecture} names them, with the
 * traits that set their forward pass apart. Everything else (shapes, epsilon, RoPE base) comes
 * from the file's metadata.
 */
public enum Architecture {
    /** Llama 2/3/3.1/3.2, TinyLlama, Mistral-style, SmolLM: adjacent-pair RoPE, optional rope_freqs. */
    LLAMA("llama", false, false, false),
    /** Qwen2 / Qwen2.5: q/k/v biases, NEOX RoPE. */
    QWEN2("qwen2", true, true, false),
    /** Qwen3: per-head RMSNorm on q and k, NEOX RoPE, head dim from attention.key_length. */
    QWEN3("qwen3", true, false, true);

    public final String ggufName;
    public final boolean neoxRope;
    public final boolean qkvBias;
    public final boolean qkNorm;

    Architecture(String ggufName, boolean neoxRope, boolean qkvBias, boolean qkNorm) {
        this.ggufName = ggufName;
        this.neoxRope = neoxRope;
        this.qkvBias = qkvBias;
        this.qkNorm = qkNorm;
    }

    /** The architecture named {@code name}, or an error listing the supported ones. */
    public static Architecture of(String name) {
        for (Architecture a : values()) {
            if (a.ggufName.equals(name)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unsupported architecture '" + name + "' (supported: " + supported() + ")");
    }

    public static String supported() {
        return Arrays.stream(values()).map(a -> a.ggufName).collect(Collectors.joining(", "));
    }
}
