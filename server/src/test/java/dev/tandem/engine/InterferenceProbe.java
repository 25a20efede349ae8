package dev.tandem.engine;

import dev.tandem.model.Model;
import dev.tandem.model.SamplingParams;
import dev.tandem.tokenizer.Tokenizer;
import dev.tandem.tokenizer.Tokenizers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A measurement, not a test (issue 5, point 12): one client streams 256 tokens while another
 * submits a 2000-token prompt every 2 seconds; prints the streaming client's inter-token latency
 * p50/p99/max in split and colocated mode, and with no second client. A scenario is cut off after
 * 90 s; the latencies are then those of the tokens streamed so far (the line says how many).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp … dev.tandem.engine.InterferenceProbe \
 *     MODEL.gguf [threads=2] [decodeCpus=1] [migration=handoff]
 * </pre>
 * Colocated mode gets {@code threads} compute threads; split mode gets {@code threads − 1} prefill
 * threads (at least 1) and one decode thread, pinned to {@code decodeCpus} (a comma list; "none"
 * for unpinned).
 */
public final class InterferenceProbe {
    private static final int STREAM_TOKENS = 256;
    private static final int LONG_PROMPT = 2000;
    private static final long INTERVAL_MS = 2000;
    /** A scenario stops after this long even if the stream has not finished (colocated mode can starve it). */
    private static final long LIMIT_SECONDS = 90;

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: InterferenceProbe MODEL.gguf [threads] [decodeCpus|none] [handoff|copy]");
            System.exit(2);
        }
        Path file = Path.of(args[0]);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        List<Integer> cpus = args.length > 2 && !args[2].equals("none")
                ? Arrays.stream(args[2].split(",")).map(String::trim).map(Integer::valueOf).toList() : List.of();
        if (args.length <= 2) {
            cpus = List.of(1);
        }
        KvMigration.Strategy migration = args.length > 3 ? KvMigration.Strategy.parse(args[3]) : KvMigration.Strategy.HANDOFF;
        try (Model model = Model.load(file)) {
            Tokenizer tok = Tokenizers.fromGguf(model.file());
            int ctx = Math.min(4096, model.config().contextLength());
            EngineConfig cfg = new EngineConfig("probe", threads, 4, 512, ctx, 4 * ctx, 16);
            SplitConfig split = new SplitConfig(Math.max(1, threads - 1), 1, cpus, migration);
            System.out.printf("model %s, %d threads; split: %d prefill + 1 decode thread, decode CPUs %s, %s migration; "
                    + "colocated: %d threads; chunk 512%n", file.getFileName(), threads, split.prefillThreads(), cpus,
                    migration, threads);
            for (EngineMode mode : List.of(EngineMode.SPLIT, EngineMode.COLOCATED)) {
                try (Engine engine = Engines.create(mode, model, tok, null, cfg, split, new SimpleMeterRegistry())) {
                    warmUp(engine, tok, model.config().vocab());
                    for (boolean interfere : new boolean[] {false, true}) {
                        Result r = measure(engine, tok, model.config().vocab(), interfere);
                        System.out.printf("%-9s %-22s ITL p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  (%d tokens, %.1f s, "
                                        + "%d long prompts sent, %d rejected)%n",
                                mode.name().toLowerCase(), interfere ? "2000-token prompt / 2 s" : "no second client",
                                r.p50, r.p99, r.max, r.gaps + 1, r.seconds, r.sent, r.rejected);
                    }
                }
            }
        }
    }

    private record Result(double p50, double p99, double max, int gaps, double seconds, int sent, int rejected) {}

    private static int[] prompt(Tokenizer tok, int vocab, int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] p = new int[n];
        p[0] = tok.bos();
        for (int i = 1; i < n; i++) {
            p[i] = 3 + rnd.nextInt(Math.min(vocab, tok.vocabSize()) - 3);
        }
        return p;
    }

    private static GenerationRequest greedy(int[] prompt, int max) {
        return new GenerationRequest(prompt, SamplingParams.greedy(), max, List.of(), true, false, 0);
    }

    /** One short stream and one 512-token prompt, so the JIT has compiled both paths. */
    private static void warmUp(Engine engine, Tokenizer tok, int vocab) throws InterruptedException {
        TimingSink a = new TimingSink(), b = new TimingSink();
        engine.submit(greedy(prompt(tok, vocab, 16, 1), 64), a);
        engine.submit(greedy(prompt(tok, vocab, 512, 2), 1), b);
        a.done.await(5, TimeUnit.MINUTES);
        b.done.await(5, TimeUnit.MINUTES);
    }

    private static Result measure(Engine engine, Tokenizer tok, int vocab, boolean interfere) throws InterruptedException {
        TimingSink stream = new TimingSink();
        List<TimingSink> longs = new ArrayList<>();
        List<RequestHandle> handles = new ArrayList<>();
        int sent = 0, rejected = 0;
        long start = System.nanoTime();
        RequestHandle streamHandle = engine.submit(greedy(prompt(tok, vocab, 32, 3), STREAM_TOKENS), stream);
        long next = start;
        long limit = start + TimeUnit.SECONDS.toNanos(LIMIT_SECONDS);
        while (System.nanoTime() - limit < 0) {
            long wait = (interfere ? Math.min(next, limit) : limit) - System.nanoTime();
            if (stream.done.await(Math.max(0, wait), TimeUnit.NANOSECONDS)) {
                break;
            }
            if (interfere && System.nanoTime() - next >= 0) {
                TimingSink s = new TimingSink();
                try {
                    handles.add(engine.submit(greedy(prompt(tok, vocab, LONG_PROMPT, 100 + sent), 1), s));
                    longs.add(s);
                } catch (EngineException.Rejected e) {
                    rejected++;
                }
                sent++;
                next += TimeUnit.MILLISECONDS.toNanos(INTERVAL_MS);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        streamHandle.cancel(); // when cut off
        stream.done.await(5, TimeUnit.MINUTES);
        for (RequestHandle h : handles) {
            h.cancel(); // long prompts still queued or prefilling
        }
        for (TimingSink s : longs) {
            s.done.await(5, TimeUnit.MINUTES);
        }
        long[] t = stream.times();
        if (t.length < 2) {
            return new Result(Double.NaN, Double.NaN, Double.NaN, 0, seconds, sent, rejected);
        }
        double[] gaps = new double[t.length - 1];
        for (int i = 1; i < t.length; i++) {
            gaps[i - 1] = (t[i] - t[i - 1]) / 1e6;
        }
        Arrays.sort(gaps);
        return new Result(percentile(gaps, 0.50), percentile(gaps, 0.99), gaps[gaps.length - 1], gaps.length, seconds, sent,
                rejected);
    }

    /** Nearest-rank percentile of sorted values. */
    private static double percentile(double[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** Records the arrival time of each token. */
    private static final class TimingSink implements TokenSink {
        private final long[] at = new long[STREAM_TOKENS + 1];
        private int n;
        final CountDownLatch done = new CountDownLatch(1);

        @Override
        public synchronized void onToken(int tokenId, String textPiece, Logprobs logprobs) {
            if (n < at.length) {
                at[n++] = System.nanoTime();
            }
        }

        @Override
        public void onFinish(FinishReason reason, Usage usage) {
            done.countDown();
        }

        @Override
        public void onError(EngineException error) {
            System.err.println("request failed: " + error.getMessage());
            done.countDown();
        }

        synchronized long[] times() {
            return Arrays.copyOf(at, n);
        }
    }
}
