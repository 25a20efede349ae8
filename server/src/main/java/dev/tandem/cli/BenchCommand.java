package dev.tandem.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.kernels.Parallel;
import dev.tandem.kernels.Vectors;
import dev.tandem.model.Forward;
import dev.tandem.model.KvCache;
import dev.tandem.model.Model;
import dev.tandem.model.ModelConfig;
import dev.tandem.model.Sequence;
import dev.tandem.gguf.TensorInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code tandem bench}: llama-bench's tests and columns (pp = prompt processing, tg = text
 * generation), so tandem's rows sit beside llama.cpp's; plus this machine's read bandwidth and
 * decode as a fraction of it, and a warning when other processes took CPU during the run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure prompt processing (pp) and text generation (tg) speed, llama-bench style.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH|demo", description = "GGUF model file, or 'demo'.")
    String model;
    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Threads (default: all cores).")
    Integer threads;
    @Option(names = {"-p", "--n-prompt"}, defaultValue = "512", paramLabel = "N", description = "Prompt tokens for pp (0 = skip; default: ${DEFAULT-VALUE}).")
    int nPrompt;
    @Option(names = {"-n", "--n-gen"}, defaultValue = "128", paramLabel = "N", description = "Generated tokens for tg (0 = skip; default: ${DEFAULT-VALUE}).")
    int nGen;
    @Option(names = {"-b", "--batch"}, defaultValue = "512", paramLabel = "N", description = "Prefill chunk (default: ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = {"-r", "--repetitions"}, defaultValue = "3", paramLabel = "N", description = "Repetitions (default: ${DEFAULT-VALUE}).")
    int reps;
    @Option(names = {"-o", "--output"}, defaultValue = "md", paramLabel = "md|json", description = "Output format (default: ${DEFAULT-VALUE}).")
    String output;
    @Option(names = "--no-bandwidth", description = "Skip the read-bandwidth probe.")
    boolean noBandwidth;

    @Option(names = "--tg-schedule", defaultValue = "fixed", paramLabel = "fixed|claimed",
            description = "How tg splits rows over threads: fixed (each thread the same slice every token, as the decode worker does) "
                    + "or claimed (parts claimed at run time, as the prefill pool does; pp always uses it) (default: ${DEFAULT-VALUE}).")
    String tgSchedule;

    @Option(names = "--kernels", defaultValue = "f32", paramLabel = "f32|q8", description = KernelsOption.DESCRIPTION)
    String kernels;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int nThreads = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (nThreads < 1 || reps < 1 || nPrompt < 0 || nGen < 0 || batch < 1 || !(output.equals("md") || output.equals("json"))) {
            throw new ParameterException(spec.commandLine(), "need --threads ≥ 1, -r ≥ 1, -p/-n ≥ 0, -b ≥ 1, -o md|json");
        }
        if (!tgSchedule.equals("fixed") && !tgSchedule.equals("claimed")) {
            throw new ParameterException(spec.commandLine(), "--tg-schedule must be fixed or claimed, not " + tgSchedule);
        }
        KernelsOption.apply(kernels, spec, err);
        Path path = ModelPaths.resolve(model, err);
        CpuLoad load = CpuLoad.start();
        try (Model m = Model.load(path); Parallel pool = new Parallel(nThreads, "bench");
             Parallel tgPool = new Parallel(nThreads, "bench-tg",
                     tgSchedule.equals("fixed") ? Parallel.Schedule.FIXED : Parallel.Schedule.CLAIMED)) {
            ModelConfig c = m.config();
            if (nPrompt + nGen > c.contextLength()) {
                err.printf("note: -p %d + -n %d exceeds the model's context %d; measuring anyway%n", nPrompt, nGen, c.contextLength());
            }
            long fileBytes = 0, params = 0, decodeBytes = 0;
            for (TensorInfo t : m.file().tensors().values()) {
                fileBytes += t.bytes();
                params += t.elements();
                boolean inputOnly = t.name().equals("token_embd.weight") && !c.tiedOutput();
                decodeBytes += inputOnly ? 0 : t.bytes();
            }
            List<Map<String, Object>> rows = new ArrayList<>();
            if (nPrompt > 0) {
                rows.add(run(m, pool, "pp" + nPrompt, nPrompt, 0, nThreads, fileBytes, params));
            }
            if (nGen > 0) {
                rows.add(run(m, tgPool, "tg" + nGen, 0, nGen, nThreads, fileBytes, params));
            }
            double bandwidth = noBandwidth ? 0 : Bandwidth.measure(pool);
            double busyOthers = load.othersShare();
            if (output.equals("json")) {
                out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(rows));
            } else {
                out.println("| model                          |       size |     params | backend    | threads |            test |                  t/s |");
                out.println("| ------------------------------ | ---------: | ---------: | ---------- | ------: | --------------: | -------------------: |");
                for (Map<String, Object> r : rows) {
                    out.printf(Locale.ROOT, "| %-30s | %7.2f GiB | %8.2f M | %-10s | %7d | %15s | %11.2f ± %6.2f |%n",
                            r.get("model_type"), fileBytes / (double) (1L << 30), params / 1e6, KernelsOption.backend(Vectors.F.vectorBitSize()),
                            nThreads, r.get("test"), (double) r.get("avg_ts"), (double) r.get("stddev_ts"));
                }
            }
            if (bandwidth > 0) {
                err.printf(Locale.ROOT, "read bandwidth (%d threads): %.1f GB/s", nThreads, bandwidth / 1e9);
                for (Map<String, Object> r : rows) {
                    if (((Number) r.get("n_gen")).intValue() > 0) {
                        double gbs = decodeBytes * (double) r.get("avg_ts");
                        err.printf(Locale.ROOT, "; decode reads %.3f GB/token = %.1f GB/s = %.0f%% of it", decodeBytes / 1e9, gbs / 1e9, 100 * gbs / bandwidth);
                    }
                }
                err.println();
            }
            if (busyOthers > 0.10) {
                err.printf(Locale.ROOT, "warning: other processes used %.0f%% of the machine's CPU time during the run; numbers are noisy%n", 100 * busyOthers);
            } else if (busyOthers >= 0) {
                err.printf(Locale.ROOT, "other processes used %.0f%% of the CPU during the run%n", 100 * busyOthers);
            }
            err.flush();
            out.flush();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return 0;
    }

    /** One llama-bench test: a warm-up, then {@code reps} timed runs on a fresh sequence each. */
    private Map<String, Object> run(Model m, Parallel pool, String test, int nP, int nG, int nThreads, long size, long params) {
        ModelConfig c = m.config();
        int positions = Math.max(1, nP + nG);
        KvCache kv = KvCache.forPositions(c, positions, 16);
        Forward fw = new Forward(m, kv, pool, Math.max(1, Math.min(batch, Math.max(nP, 1))));
        SplittableRandom rnd = new SplittableRandom(1234);
        float[] logits = new float[c.vocab()];
        double[] ts = new double[reps];
        long[] ns = new long[reps];
        for (int rep = -1; rep < reps; rep++) {
            Sequence seq = new Sequence(positions, 16);
            kv.reserve(seq, positions);
            long t0 = System.nanoTime();
            if (nP > 0) {
                int[] prompt = new int[nP];
                for (int i = 0; i < nP; i++) {
                    prompt[i] = rnd.nextInt(c.vocab());
                }
                fw.prefill(seq, prompt, 0, nP, logits, false);
            } else {
                int[] one = {c.vocab() > 1 ? 1 : 0};
                Sequence[] seqs = {seq};
                for (int i = 0; i < nG; i++) {
                    fw.decode(seqs, one, 1, logits);
                    one[0] = rnd.nextInt(c.vocab());
                }
            }
            long elapsed = System.nanoTime() - t0;
            kv.release(seq);
            if (rep >= 0) {
                ns[rep] = elapsed;
                ts[rep] = (nP + nG) / (elapsed / 1e9);
            }
        }
        double mean = 0;
        for (double t : ts) {
            mean += t / reps;
        }
        double var = 0;
        for (double t : ts) {
            var += (t - mean) * (t - mean);
        }
        double sd = reps > 1 ? Math.sqrt(var / (reps - 1)) : 0;
        long nsMean = 0;
        for (long v : ns) {
            nsMean += v / reps;
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("model_filename", m.file().path().toString());
        r.put("model_type", c.arch().ggufName + " " + c.name());
        r.put("model_size", size);
        r.put("model_n_params", params);
        r.put("n_threads", nThreads);
        r.put("n_batch", batch);
        r.put("kernels", kernels);
        r.put("n_prompt", nP);
        r.put("n_gen", nG);
        r.put("test", test);
        r.put("avg_ns", nsMean);
        r.put("avg_ts", mean);
        r.put("stddev_ts", sd);
        r.put("samples_ns", ns);
        r.put("samples_ts", ts);
        return r;
    }
}
