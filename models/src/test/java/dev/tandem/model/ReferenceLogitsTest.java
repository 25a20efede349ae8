package dev.tandem.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.kernels.IntKernels;
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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * tandem's logits against the exact float64 forward pass, for every model file and prompt in
 * {@code shared/models/ref} (MANIFEST.md, "what correct means"): every listed logit at every
 * position and the whole last-prompt row within {@code tolerance_vs_exact}; greedy argmax equal to
 * llama.cpp's token wherever the exact margin exceeds twice the tolerance. Prints tandem's largest
 * deviation from exact beside llama.cpp's, for each kernel path ({@link Kernels}): the integer path
 * quantizes activations as llama.cpp does and must meet the same tolerances.
 */
class ReferenceLogitsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> REPORT = new TreeMap<>();

    /**
     * Every reference case on the F32 kernels and, where the model has a matrix with an integer
     * kernel, on the integer path too; each with the KV cache in F32 (the default) and in F16
     * ({@code --kv-type f16}). A model without one computes the same logits bit for bit on both
     * paths ({@link #integerPathChangesLogitsExactlyWhereItApplies}), so its q8 case would repeat its f32 case.
     */
    static Stream<Arguments> cases() throws IOException {
        Path ref = refOrNull();
        if (ref == null) {
            return Stream.of(Arguments.of("(shared absent)", Kernels.F32, KvCache.Type.F32));
        }
        List<String> names = list(ref, ".json");
        Map<String, Boolean> integer = new TreeMap<>();
        for (String n : names) {
            integer.computeIfAbsent(modelFile(n), f -> {
                try (Model model = Model.load(ref.resolve(f))) {
                    return Kernels.integerMatrices(model) > 0;
                }
            });
        }
        return Stream.of(Kernels.values()).flatMap(k -> Stream.of(KvCache.Type.values()).flatMap(t -> names.stream()
                .filter(n -> k == Kernels.F32 || integer.get(modelFile(n)))
                .map(n -> Arguments.of(n, k, t))));
    }

    /** Every reference model file. */
    static Stream<String> modelFiles() throws IOException {
        Path ref = refOrNull();
        return ref == null ? Stream.of("(shared absent)") : list(ref, ".gguf").stream();
    }

    private static Path refOrNull() {
        Path root = Shared.rootOrNull();
        return root == null || !Files.isDirectory(root.resolve("models/ref")) ? null : root.resolve("models/ref");
    }

    private static List<String> list(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(suffix)).sorted().toList();
        }
    }

    /** "qwen2-f32.short.json" → "qwen2-f32.gguf". */
    private static String modelFile(String jsonName) {
        String stem = jsonName.substring(0, jsonName.length() - ".json".length());
        return stem.substring(0, stem.lastIndexOf('.')) + ".gguf";
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

    @ParameterizedTest(name = "{0} kernels {1} kv {2}")
    @MethodSource("cases")
    void logitsMatchExactPass(String jsonName, Kernels kernels, KvCache.Type kvType) throws IOException {
        Path ref = Shared.models().resolve("ref");
        JsonNode j = JSON.readTree(ref.resolve(jsonName).toFile());
        String stem = jsonName.substring(0, jsonName.length() - ".json".length()); // e.g. qwen2-f32.short
        String modelFile = modelFile(jsonName);
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
            float[] logits = kernels.run(() -> prefillAll(model, tokens, 64, 2, kvType));
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
            stem = stem + " kernels " + kernels.label() + " kv " + kvType.name().toLowerCase(java.util.Locale.ROOT);
            String line = String.format("%-42s tandem %.2e  llama.cpp %.5f  tolerance %.5f  greedy steps checked %d/%d",
                    stem, maxDev, llamaDev, tol, checked, greedy.length);
            REPORT.put(stem, line);
            System.out.println("accuracy: " + line);
            assertTrue(failures.isEmpty(), stem + " (tolerance " + tol + "):\n  " + String.join("\n  ", failures));
        }
    }

    /**
     * The q8 cases are not vacuous: on a model with a matrix that has an integer kernel, the
     * integer path changes the logits; on one without, it computes the F32 path's logits bit for bit
     * (what lets {@link #cases} leave such models' q8 cases out). Q8_0 and Q4_0 files must have
     * such matrices whatever else gains a kernel: a switch that no matrix product read would
     * otherwise pass here and drop every q8 case.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("modelFiles")
    void integerPathChangesLogitsExactlyWhereItApplies(String file) {
        try (Model model = Model.load(Shared.model("ref/" + file))) {
            int[] tokens = {1, 450, 2, 300, 17, 260, 511, 42}; // within every reference vocabulary (≥ 512)
            boolean before = IntKernels.enabled();
            float[] f32 = Kernels.F32.run(() -> prefillAll(model, tokens, 64, 1));
            float[] q8 = Kernels.Q8.run(() -> prefillAll(model, tokens, 64, 1));
            assertEquals(before, IntKernels.enabled(), "the switch restored after each run");
            int integer = Kernels.integerMatrices(model);
            if (file.endsWith("-q8_0.gguf") || file.endsWith("-q4_0.gguf")) {
                assertTrue(integer > 0, file + ": no matrix on the integer path");
            }
            if (integer > 0) {
                assertFalse(Arrays.equals(f32, q8), file + ": " + integer + " matrices on the integer path, yet its logits equal the F32 path's");
            } else {
                assertArrayEquals(f32, q8, file + ": no matrix has an integer kernel, yet the switch changed the logits");
            }
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
