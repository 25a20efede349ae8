package dev.tandem.cli;

import dev.tandem.gguf.GgufFile;
import dev.tandem.tokenizer.Tokenizer;
import dev.tandem.tokenizer.Tokenizers;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code tandem tokenize}: the token ids of a text, or of every case of a llama.cpp vocabulary test file, printed
 * in llama.cpp's {@code .out} format (one line per text, each id preceded by a space).
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of a text (--text), or of each case of a llama.cpp .inp file (--file), one line per text.")
final class TokenizeCommand implements Callable<Integer> {
    /** The line between two cases of a llama.cpp vocabulary test (.inp) file. */
    static final String CASE_SEPARATOR = "\n__ggml_vocab_test__\n";

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH|demo", description = "GGUF file (its vocabulary is used), or 'demo'.")
    String model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", paramLabel = "TEXT", description = "The text to tokenize.")
        String text;

        @Option(names = "--file", paramLabel = "FILE",
                description = "A UTF-8 file of texts separated by lines '__ggml_vocab_test__' (llama.cpp's .inp format).")
        Path file;
    }

    @Option(names = "--bos", description = "With --text: put BOS first when the vocabulary adds one (tokenizer.ggml.add_bos_token).")
    boolean bos;

    @Option(names = "--parse-special", description = "Read special-token texts (e.g. <|endoftext|>) in the input as those tokens.")
    boolean parseSpecial;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path path = ModelPaths.resolve(model, spec.commandLine().getErr());
        Tokenizer t;
        try (GgufFile f = GgufFile.open(path)) {
            t = Tokenizers.fromGguf(f);
        }
        if (input.text != null) {
            int[] ids = t.encode(input.text, false, parseSpecial);
            if (bos && t.addsBos()) {
                int[] withBos = new int[ids.length + 1];
                withBos[0] = t.bos();
                System.arraycopy(ids, 0, withBos, 1, ids.length);
                ids = withBos;
            }
            out.println(line(ids));
        } else {
            if (bos) {
                throw new IllegalArgumentException("--bos applies to --text only; --file prints ids without BOS / EOS, as llama.cpp's .out files");
            }
            for (String text : cases(read(input.file))) {
                out.println(line(t.encode(text, false, parseSpecial)));
            }
        }
        out.flush();
        return 0;
    }

    /** The texts of a .inp file: split on {@link #CASE_SEPARATOR}; a separator at the very end closes the last text. */
    static List<String> cases(String raw) {
        List<String> texts = new ArrayList<>();
        int pos = 0;
        while (pos < raw.length()) {
            int next = raw.indexOf(CASE_SEPARATOR, pos);
            if (next < 0) {
                texts.add(raw.substring(pos));
                break;
            }
            texts.add(raw.substring(pos, next));
            pos = next + CASE_SEPARATOR.length();
        }
        return texts;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** " 15043 3186": each id after a space, as llama.cpp's test-tokenizer-0 writes its .out files. */
    static String line(int[] ids) {
        StringBuilder sb = new StringBuilder(ids.length * 6);
        for (int id : ids) {
            sb.append(' ').append(id);
        }
        return sb.toString();
    }
}
