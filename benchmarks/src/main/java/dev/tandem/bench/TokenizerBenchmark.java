package dev.tandem.bench;

import dev.tandem.gguf.GgufFile;
import dev.tandem.tokenizer.Tokenizer;
import dev.tandem.tokenizer.Tokenizers;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Encoding 1 MB (UTF-8) of text with each shared vocabulary, one thread: English-like prose, and mixed-script text
 * (Latin, Cyrillic, Greek, CJK, Hangul, Devanagari, emoji, digits, code punctuation). Both are generated from a fixed
 * seed in setup. MB/s = 1 / (seconds per op). The vocabularies are read from {@code -Dtandem.vocab=DIR}, default
 * {@code ../shared/models/vocab}.
 * Run: {@code java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar TokenizerBenchmark -f 1 -wi 1 -i 3}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class TokenizerBenchmark {
    @Param({"llama-spm", "phi-3", "gpt-2", "falcon", "mpt", "starcoder", "refact", "deepseek-coder", "deepseek-llm"})
    String vocab;

    @Param({"english", "mixed"})
    String text;

    private static final int BYTES = 1 << 20;
    private static final String[] WORDS = ("the of and to in is that it was for on are as with his they at be this from have or "
            + "by one had not but what all were when we there can an your which their said if do will each about how up out "
            + "them then she many some so these would other into has more her two like him see time could no make than first "
            + "been its who now people my made over did down only way find use may water long little very after words called "
            + "just where most know get through back much before go good new write our used me man too any day same right look "
            + "think also around another came come work three word must because does part even place well such here take why "
            + "tokenizer inference server model weights attention kernel batch prefill decode cache").split(" ");
    private static final String[] MIXED = {"Привет", "мир", "καλημέρα", "κόσμε", "你好", "世界", "日本語", "テキスト", "안녕하세요",
            "नमस्ते", "दुनिया", "🦙", "🚀✨", "😀", "Äpfel", "naïve", "façade", "x += 42;", "if (a < b) { return c; }", "12345",
            "3.14159", "\n", "\t", "    ", "'s", "don't", "—", "«quote»"};

    private Tokenizer tokenizer;
    private String input;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        Path dir = Path.of(System.getProperty("tandem.vocab", "../shared/models/vocab"));
        Path file = dir.resolve("ggml-vocab-" + vocab + ".gguf");
        if (!Files.exists(file)) {
            throw new IllegalStateException(file.toAbsolutePath() + " is absent; set -Dtandem.vocab=DIR to the folder of ggml-vocab-*.gguf");
        }
        try (GgufFile f = GgufFile.open(file)) {
            tokenizer = Tokenizers.fromGguf(f);
        }
        input = "english".equals(text) ? english(new SplittableRandom(1)) : mixed(new SplittableRandom(2));
    }

    /** Sentences of common English words, capitalised, with commas and full stops, until 1 MB. */
    static String english(SplittableRandom r) {
        StringBuilder sb = new StringBuilder(BYTES + 64);
        while (sb.length() < BYTES) {
            int n = 5 + r.nextInt(15);
            for (int i = 0; i < n; i++) {
                String w = WORDS[r.nextInt(WORDS.length)];
                sb.append(i == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w);
                sb.append(i == n - 1 ? (r.nextInt(8) == 0 ? ".\n" : ". ") : r.nextInt(10) == 0 ? ", " : " ");
            }
        }
        return trim(sb);
    }

    /** Words from many scripts, emoji, numbers and code, space-separated, until 1 MB of UTF-8. */
    static String mixed(SplittableRandom r) {
        StringBuilder sb = new StringBuilder(BYTES);
        int bytes = 0;
        while (bytes < BYTES) {
            String w = r.nextInt(3) == 0 ? WORDS[r.nextInt(WORDS.length)] : MIXED[r.nextInt(MIXED.length)];
            sb.append(w).append(' ');
            bytes += w.getBytes(StandardCharsets.UTF_8).length + 1;
        }
        return sb.toString();
    }

    private static String trim(StringBuilder sb) {
        sb.setLength(BYTES);
        return sb.toString();
    }

    @Benchmark
    public int[] encode() {
        return tokenizer.encode(input, false, false);
    }
}
