package dev.tandem.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.kernels.Parallel;
import dev.tandem.testing.Shared;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * tandem's logits against the exact float64 forward pass, for every model file and prompt in
 * {@code shared/models/ref} (MANIFEST.md, "what correct means"): every listed logit at every
 * position and the whole last-prompt row within {@code tolerance_vs_exact}; greedy argmax equal to
 * llama.cpp's token wherever the exact margin exceeds twice the tolerance. Prints tandem's largest
 * deviation from exact beside llama.cpp's.
 */
class ReferenceLogitsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> REPORT = new TreeMap<>();

    /** Every reference case, with the KV cache in F32 (the default) and in F16 ({@code --kv-type f16}). */
    static Stream<Arguments> cases() throws IOException {
        Path ref = Shared.rootOrNull() == null ? null : Shared.rootOrNull().resolve("models/ref");
        if (ref == null || !Files.isDirectory(ref)) {
            return Stream.of(Arguments.of("(shared absent)", KvCache.Type.F32));
        }
        try (Stream<Path> s = Files.list(ref)) {
            List<String> names = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json")).sorted().toList();
            return Stream.of(KvCache.Type.values()).flatMap(t -> names.stream().map(n -> Arguments.of(n, t)));
        }
    }

    /** Logits {@code [positions][vocab]} for {@code tokens}, computed by prefill in chunks of {@code chunk}. */
    static float[] prefillAll(Model model, int[] tokens, int chunk, int threads) {
        return prefillAll(model, tokens, chunk, threads, KvCache.Type.F32);
    }

    static float[] prefillAll(Model model, int[] tokens, int chunk, int threads, KvCache.Type kvType) {
        ModelConfig c = model.config();
        KvCache kv = KvCache.forPositions(c, tokens.length, 16, kvType);
        Sequence seq = new Sequence(tokens.length, 16);
        assertTrue(kv.reserve(seq, tokens.length));
        float[] logits = new float[tokens.length * c.vocab()];
        try (Parallel pool = new Parallel(threads, "test")) {
            new Forward(model, kv, pool, chunk).prefill(seq, tokens, 0, tokens.length, logits, true);
        }
        return logits;
    }

    @ParameterizedTest(name = "{0} kv {1}")
    @MethodSource("cases")
    void logitsMatchExactPass(String jsonName, KvCache.Type kvType) throws IOException {
        Path ref = Shared.models().resolve("ref");
        JsonNode j = JSON.readTree(ref.resolve(jsonName).toFile());
        String stem = jsonName.substring(0, jsonName.length() - ".json".length()); // e.g. qwen2-f32.short
        String modelFile = stem.substring(0, stem.lastIndexOf('.')) + ".gguf";
        int[] prompt = ints(j.get("prompt_tokens"));
        int[] greedy = ints(j.get("greedy_tokens"));
        double tol = j.get("tolerance_vs_exact").asDouble();
        double llamaDev = j.get("llamacpp_vs_exact_max_abs").asDouble();
        JsonNode positions = j.get("positions");
        int total = positions.size();
        int[] tokens = new int[total];
        System.arraycopy(prompt, 0, tokens, 0, prompt.length);
        System.arraycopy(greedy, 0, tokens, prompt.length, total - prompt.length);

        try (Model model = Model.load(ref.resolve(modelFile))) {
            int vocab = model.config().vocab();
            float[] logits = prefillAll(model, tokens, 64, 2, kvType);
            double maxDev = 0;
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < total; i++) {
                JsonNode p = positions.get(i);
                int[] ids = ints(p.get("ids"));
                JsonNode exact = p.get("exact");
                for (int e = 0; e < ids.length; e++) {
                    double want = exact.get(e).asDouble();
                    double got = logits[i * vocab + ids[e]];
                    double dev = Math.abs(got - want);
                    maxDev = Math.max(maxDev, dev);
                    if (!(dev <= tol) && failures.size() < 10) {
                        failures.add("position " + i + " id " + ids[e] + ": tandem " + got + " exact " + want);
                    }
                }
            }
            float[] exactRow = readF32(ref.resolve(stem + ".last.exact.f32"));
            assertEquals(vocab, exactRow.length, "last.exact.f32 length");
            int last = prompt.length - 1;
            double rowDev = 0;
            for (int t = 0; t < vocab; t++) {
                double dev = Math.abs(logits[last * vocab + t] - exactRow[t]);
                rowDev = Math.max(rowDev, dev);
                if (!(dev <= tol) && failures.size() < 20) {
                    failures.add("last prompt row id " + t + ": tandem " + logits[last * vocab + t] + " exact " + exactRow[t]);
                }
            }
            maxDev = Math.max(maxDev, rowDev);
            JsonNode margins = j.get("greedy_exact_margin");
            int checked = 0;
            for (int s = 0; s < greedy.length && last + s < total; s++) {
                if (margins.get(s).asDouble() > 2 * tol) {
                    checked++;
                    int argmax = argmax(logits, (last + s) * vocab, vocab);
                    if (argmax != greedy[s]) {
                        failures.add("greedy step " + s + ": tandem argmax " + argmax + ", llama.cpp " + greedy[s]
                                + " (exact margin " + margins.get(s).asDouble() + ")");
                    }
                }
            }
            stem = stem + " kv " + kvType.name().toLowerCase(java.util.Locale.ROOT);
            String line = String.format("%-35s tandem %.2e  llama.cpp %.5f  tolerance %.5f  greedy steps checked %d/%d",
                    stem, maxDev, llamaDev, tol, checked, greedy.length);
            REPORT.put(stem, line);
            System.out.println("accuracy: " + line);
            assertTrue(failures.isEmpty(), stem + " (tolerance " + tol + "):\n  " + String.join("\n  ", failures));
        }
    }

    @AfterAll
    static void report() throws IOException {
        if (!REPORT.isEmpty()) {
            Path out = Path.of("target", "accuracy.txt");
            Files.createDirectories(out.getParent());
            Files.write(out, REPORT.values());
        }
    }

    static int[] ints(JsonNode a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).asInt();
        }
        return v;
    }

    static float[] readF32(Path p) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[b.remaining() / 4];
        b.asFloatBuffer().get(v);
        return v;
    }

    static int argmax(float[] a, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (a[off + i] > a[off + best]) {
                best = i;
            }
        }
        return best;
    }
}
