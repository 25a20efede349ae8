package dev.tandem.cli;

import dev.tandem.kernels.GgmlType;
import dev.tandem.model.Architecture;
import dev.tandem.model.ModelMaker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code tandem make-model}: a random-weight model of any shape, for tests and benchmarks. */
@Command(name = "make-model", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write a random-weight GGUF model of any shape (its output is random text).")
final class MakeModelCommand implements Callable<Integer> {
    @Option(names = "--arch", defaultValue = "llama", description = "llama, qwen2 or qwen3 (default: ${DEFAULT-VALUE}).")
    String arch;
    @Option(names = "--dim", required = true, description = "Embedding width.")
    int dim;
    @Option(names = "--layers", required = true, description = "Transformer blocks.")
    int layers;
    @Option(names = "--heads", required = true, description = "Query heads.")
    int heads;
    @Option(names = "--kv-heads", description = "Key/value heads (default: --heads).")
    Integer kvHeads;
    @Option(names = "--ffn", required = true, description = "Feed-forward width.")
    int ffn;
    @Option(names = "--head-dim", defaultValue = "0", description = "Head width (default: dim / heads; qwen3 may differ).")
    int headDim;
    @Option(names = "--vocab", paramLabel = "VOCAB.gguf", description = "Copy the tokenizer from this GGUF (default: a built-in byte-level vocabulary).")
    Path vocab;
    @Option(names = "--vocab-size", defaultValue = "0", paramLabel = "N", description = "Pad the vocabulary to N entries.")
    int vocabSize;
    @Option(names = "--type", defaultValue = "q8_0", description = "f32, f16, q8_0 or q4_0 (default: ${DEFAULT-VALUE}).")
    String type;
    @Option(names = "--context", defaultValue = "2048", description = "Context length (default: ${DEFAULT-VALUE}).")
    int context;
    @Option(names = "--tied", description = "Tie the output matrix to the token embedding.")
    boolean tied;
    @Option(names = "--seed", defaultValue = "1", description = "Weight seed (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = {"-o", "--out"}, required = true, description = "Output GGUF file.")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        try {
            Architecture.of(arch);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--arch: " + e.getMessage());
        }
        GgmlType t = switch (type.toLowerCase(Locale.ROOT)) {
            case "f32" -> GgmlType.F32;
            case "f16" -> GgmlType.F16;
            case "q8_0" -> GgmlType.Q8_0;
            case "q4_0" -> GgmlType.Q4_0;
            default -> throw new ParameterException(spec.commandLine(), "--type must be f32, f16, q8_0 or q4_0, not " + type);
        };
        int kv = kvHeads == null ? heads : kvHeads;
        positive("--dim", dim);
        positive("--layers", layers);
        positive("--heads", heads);
        positive("--kv-heads", kv);
        positive("--ffn", ffn);
        positive("--context", context);
        if (heads % kv != 0) {
            throw new ParameterException(spec.commandLine(), "--heads " + heads + " must be a multiple of --kv-heads " + kv);
        }
        if (headDim == 0 && dim % heads != 0) {
            throw new ParameterException(spec.commandLine(), "--dim " + dim + " must be a multiple of --heads " + heads + " (or give --head-dim)");
        }
        if (vocabSize < 0 || headDim < 0) {
            throw new ParameterException(spec.commandLine(), "--vocab-size and --head-dim must not be negative");
        }
        ModelMaker.Spec s = new ModelMaker.Spec(arch, dim, layers, heads, kv, ffn, headDim, t, seed, vocab, vocabSize, context, tied);
        Path dir = out.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, out.getFileName().toString(), ".partial");
        try {
            long t0 = System.nanoTime();
            ModelMaker.make(s, tmp);
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            spec.commandLine().getErr().printf("wrote %s (%,d bytes) in %.1f s%n", out, Files.size(out), (System.nanoTime() - t0) / 1e9);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return 0;
    }

    private void positive(String name, int v) {
        if (v <= 0) {
            throw new ParameterException(spec.commandLine(), name + " must be positive, not " + v);
        }
    }
}
