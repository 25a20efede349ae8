package dev.tandem.tokenizer;

import dev.tandem.gguf.GgufFile;
import dev.tandem.testing.Shared;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Tokenizers of the shared vocabularies (loaded once per JVM) and llama.cpp's test cases for them. */
final class TestVocabs {
    private static final Map<String, Tokenizer> CACHE = new ConcurrentHashMap<>();

    private TestVocabs() {}

    /** The tokenizer of {@code shared/models/<relative>}; skips the test when the file is absent. */
    static Tokenizer tokenizer(String relative) {
        Path p = Shared.model(relative);
        return CACHE.computeIfAbsent(relative, r -> {
            try (GgufFile f = GgufFile.open(p)) {
                return Tokenizers.fromGguf(f);
            }
        });
    }

    /** One case of llama.cpp's test-tokenizer-0: the text and the ids it produces (add_special = false, parse_special = false). */
    record Case(int index, String text, int[] ids) {
        @Override
        public String toString() {
            return "case " + index + " " + quote(text);
        }
    }

    /**
     * Reads {@code <vocab>.inp} / {@code .out} as test-tokenizer-0 does: the input is split on
     * "\n__ggml_vocab_test__\n" (so the newline before a separator line is not part of the text), the output has one
     * line of space-separated ids per case.
     */
    static List<Case> cases(String vocab) {
        Path inp = Shared.model("vocab/" + vocab + ".inp");
        Path out = Shared.model("vocab/" + vocab + ".out");
        try {
            String raw = Files.readString(inp, StandardCharsets.UTF_8);
            List<String> texts = new ArrayList<>();
            String sep = "\n__ggml_vocab_test__\n";
            int pos = 0;
            while (pos < raw.length()) {
                int next = raw.indexOf(sep, pos);
                if (next < 0) {
                    texts.add(raw.substring(pos));
                    break;
                }
                texts.add(raw.substring(pos, next));
                pos = next + sep.length();
            }
            List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
            if (texts.size() != lines.size()) {
                throw new IllegalStateException(inp + " has " + texts.size() + " cases but " + out + " has " + lines.size() + " lines");
            }
            List<Case> cases = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                String line = lines.get(i).strip();
                int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
                cases.add(new Case(i, texts.get(i), ids));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** ids with each token's text beside it, for failure messages: 15043 '▁Hello', 3186 '▁world'. */
    static String describe(Tokenizer t, int[] ids) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < ids.length; i++) {
            sb.append(i > 0 ? ", " : "").append(ids[i]);
            if (ids[i] >= 0 && ids[i] < t.vocabSize()) {
                sb.append(' ').append(quote(t.tokenText(ids[i])));
            }
        }
        return sb.append(']').toString();
    }

    /** A Java-escaped, quoted form of s (control characters and non-ASCII visible). */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\t') {
                sb.append("\\t");
            } else if (c == '"' || c == '\\') {
                sb.append('\\').appendCodePoint(c);
            } else if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.append('"').toString();
    }
}
