package dev.tandem.cli;

import dev.tandem.gguf.GgufFile;
import dev.tandem.tokenizer.Tokenizer;
import dev.tandem.tokenizer.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code tandem detokenize}: the text of a list of token ids (llama.cpp's detokenize; control tokens render as nothing). */
@Command(name = "detokenize", mixinStandardHelpOptions = true,
        description = "Print the text of token ids, followed by a newline.")
final class DetokenizeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH|demo", description = "GGUF file (its vocabulary is used), or 'demo'.")
    String model;

    @Option(names = "--ids", required = true, paramLabel = "ID,ID,...", description = "Token ids, separated by commas (spaces allowed).")
    String ids;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        int[] tokens = parse(ids);
        PrintWriter out = spec.commandLine().getOut();
        Path path = ModelPaths.resolve(model, spec.commandLine().getErr());
        Tokenizer t;
        try (GgufFile f = GgufFile.open(path)) {
            t = Tokenizers.fromGguf(f);
        }
        out.println(t.decode(tokens));
        out.flush();
        return 0;
    }

    /** "1, 2,3" → [1, 2, 3]; a blank list is no ids. */
    static int[] parse(String list) {
        String s = list.strip();
        if (s.isEmpty()) {
            return new int[0];
        }
        String[] parts = s.split("\\s*,\\s*|\\s+");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--ids: '" + parts[i] + "' is not a token id (expected e.g. --ids 15043,3186)");
            }
        }
        return out;
    }
}
