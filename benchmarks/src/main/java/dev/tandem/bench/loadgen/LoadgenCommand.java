package dev.tandem.bench.loadgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tandem loadgen}: an OpenAI-compatible streaming load generator for serving benchmarks (tandem, llama-server, …). */
@Command(name = "loadgen", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 100,
        description = {"Send a seeded, timed workload of streamed requests to an OpenAI-compatible server and report request",
                "and token throughput, TTFT, TPOT, ITL and end-to-end latency (mean, median, p90, p99, max), failures and goodput.",
                "Prompts are random sequences of real vocabulary tokens (from the server's /tokenize), sent as token ids",
                "to /v1/completions so their lengths are exact; outputs are exact through max_tokens and ignore_eos."},
        footer = {"", "Workloads (one of):",
                "  --input-len N --output-len M                      fixed lengths",
                "  --input-len-range LO-HI --output-len-range LO-HI  uniform lengths",
                "  --length-histogram FILE   CSV lines input_len,output_len,weight[,class]",
                "  --mix 'short:0.9:input=64-256,output=64-128;long:0.1:input=2000,output=32'",
                "                            weighted classes; results are also broken down by class",
                "", "Example:",
                "  tandem loadgen --url http://127.0.0.1:8080 --request-rate 2 --duration 60 \\",
                "      --mix 'short:0.9:input=64-256,output=64-128;long:0.1:input=2000,output=32' \\",
                "      --goodput ttft:1000 tpot:100 --result-file out/split-2.json --label split"})
public final class LoadgenCommand implements Callable<Integer> {
    @Option(names = "--url", defaultValue = "http://127.0.0.1:8080", paramLabel = "URL", description = "Server base URL (default: ${DEFAULT-VALUE}).")
    String url;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Sent as 'Authorization: Bearer KEY' (default: $OPENAI_API_KEY if set).")
    String apiKey;

    @Option(names = "--endpoint", defaultValue = RequestBodies.COMPLETIONS, paramLabel = "PATH",
            description = "/v1/completions (token-id prompts, exact lengths) or /v1/chat/completions (the ids' text as a user message; "
                    + "prompt lengths as the server counts them) (default: ${DEFAULT-VALUE}).")
    String endpoint;

    @Option(names = "--model", paramLabel = "ID", description = "Model name to send (default: the first of GET /v1/models).")
    String model;

    @Option(names = "--input-len", defaultValue = "256", paramLabel = "N", description = "Prompt tokens (default: ${DEFAULT-VALUE}).")
    int inputLen;

    @Option(names = "--output-len", defaultValue = "128", paramLabel = "N", description = "Generated tokens (default: ${DEFAULT-VALUE}).")
    int outputLen;

    @Option(names = "--input-len-range", paramLabel = "LO-HI", description = "Prompt tokens drawn uniformly from LO..HI.")
    String inputRange;

    @Option(names = "--output-len-range", paramLabel = "LO-HI", description = "Generated tokens drawn uniformly from LO..HI.")
    String outputRange;

    @Option(names = "--length-histogram", paramLabel = "FILE", description = "Lengths from a CSV histogram (see below).")
    Path histogram;

    @Option(names = "--mix", paramLabel = "SPEC", description = "Weighted request classes (see below).")
    String mix;

    @Option(names = "--request-rate", defaultValue = "inf", paramLabel = "R", converter = Rate.class,
            description = "Poisson arrivals per second; inf sends all at once (default: ${DEFAULT-VALUE}).")
    double requestRate;

    @Option(names = "--max-concurrency", defaultValue = "0", paramLabel = "C", description = "Requests in flight at most (default: no cap).")
    int maxConcurrency;

    @Option(names = "--num-prompts", paramLabel = "N", description = "Requests to send (default: 100, or no count bound with --duration).")
    Integer numPrompts;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "Stop sending after this long; requests in flight finish.")
    Double duration;

    @Option(names = "--warmup", defaultValue = "0", paramLabel = "N", description = "Requests sent and awaited first, not measured (default: 0).")
    int warmup;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seed for lengths, prompts and arrivals (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--timeout", defaultValue = "600", paramLabel = "SECONDS", description = "One request's bound, send to last byte (default: ${DEFAULT-VALUE}).")
    double timeout;

    @Option(names = "--token-range", paramLabel = "LO:HI", description = "Draw prompt ids from LO..HI-1 instead of asking /tokenize.")
    String tokenRange;

    @Option(names = "--goodput", arity = "1..*", paramLabel = "METRIC:MS",
            description = "SLOs for goodput, e.g. ttft:1000 tpot:100 (also e2el:MS): requests/s meeting all of them.")
    List<String> goodput;

    @Option(names = "--result-file", paramLabel = "FILE", description = "Write the results as JSON (vllm bench serve's field names).")
    Path resultFile;

    @Option(names = "--save-detailed", description = "Also write per-request input_lens, output_lens, ttfts, itls (seconds) and errors.")
    boolean detailed;

    @Option(names = "--label", defaultValue = "", paramLabel = "NAME", description = "A name for this run in the JSON (e.g. split, colocated).")
    String label;

    @Option(names = "--progress", negatable = true, description = "Progress bar on stderr (default: when stderr is a terminal).")
    Boolean progress;

    /** A number of requests per second, or {@code inf}. */
    static final class Rate implements CommandLine.ITypeConverter<Double> {
        @Override
        public Double convert(String v) {
            String t = v.strip().toLowerCase(java.util.Locale.ROOT);
            if (t.equals("inf") || t.equals("infinity")) {
                return Double.POSITIVE_INFINITY;
            }
            try {
                return Double.parseDouble(t);
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("expected requests per second or inf, got '" + v + "'");
            }
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec commandSpec;

    private PrintStream out = System.out;
    private PrintStream err = System.err;

    /** Runs the command line; 0 ok (even with failed requests), 1 the run could not happen, 2 usage. */
    public static int run(PrintStream out, PrintStream err, String... args) {
        LoadgenCommand c = new LoadgenCommand();
        c.out = out;
        c.err = err;
        CommandLine cli = new CommandLine(c);
        cli.setOut(new java.io.PrintWriter(out, true));
        cli.setErr(new java.io.PrintWriter(err, true));
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            commandLine.getErr().println("loadgen: " + m.lines().findFirst().orElse(m));
            return 1;
        });
        return cli.execute(args);
    }

    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    @Override
    public Integer call() throws Exception {
        Workload workload = workload();
        RunSpec spec = new RunSpec(endpoint, workload, requestRate, maxConcurrency,
                numPrompts != null ? numPrompts : duration != null ? -1 : 100,
                duration != null ? duration : Double.POSITIVE_INFINITY, warmup, seed, timeout);
        Goodput slo = goodput == null || goodput.isEmpty() ? null : Goodput.parse(goodput);
        URI base = URI.create(url.endsWith("/") ? url : url + "/");
        String key = apiKey != null ? apiKey : System.getenv("OPENAI_API_KEY");
        try (StreamClient client = new StreamClient(base, key, Duration.ofMillis((long) (timeout * 1000)))) {
            String modelId = model != null ? model : firstModel(client);
            Vocabulary vocab = vocabulary(client);
            RequestBodies bodies = new RequestBodies(endpoint, modelId, vocab);
            if (bodies.chat()) {
                vocab = vocab.withPieces(client);
                bodies = new RequestBodies(endpoint, modelId, vocab);
            }
            err.printf(java.util.Locale.ROOT, "loadgen: %s, model %s, workload %s, rate %s/s%s, %s%n", base.resolve(endpoint.substring(1)),
                    modelId, workload, Double.isInfinite(requestRate) ? "inf" : requestRate,
                    maxConcurrency > 0 ? ", concurrency ≤ " + maxConcurrency : "",
                    spec.numPrompts() > 0 ? spec.numPrompts() + " requests" : "for " + spec.durationSeconds() + " s");
            boolean bar = progress != null ? progress : System.console() != null && System.console().isTerminal();
            Runner.Outcome o = new Runner(client, bodies, vocab, spec).run((total, secs, running) -> new Progress(err, bar, total, secs, running));
            Map<String, Object> json = Report.json(new Report.Context(label, url, endpoint, modelId, spec, slo, detailed), o);
            Report.print(out, json);
            if (resultFile != null) {
                if (resultFile.toAbsolutePath().getParent() != null) {
                    Files.createDirectories(resultFile.toAbsolutePath().getParent());
                }
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(resultFile.toFile(), json);
                err.println("loadgen: results written to " + resultFile);
            }
        }
        return 0;
    }

    private Workload workload() throws IOException {
        int given = (mix != null ? 1 : 0) + (histogram != null ? 1 : 0) + (inputRange != null || outputRange != null ? 1 : 0);
        if (given > 1) {
            throw new CommandLine.ParameterException(commandSpec.commandLine(),
                    "choose one of --mix, --length-histogram, --input-len-range/--output-len-range");
        }
        try {
            if (mix != null) {
                return Workload.parseMix(mix);
            }
            if (histogram != null) {
                return Workload.readHistogram(histogram);
            }
            Workload.Range in = inputRange != null ? Workload.Range.parse(inputRange, "--input-len-range") : new Workload.Range(inputLen, inputLen);
            Workload.Range o = outputRange != null ? Workload.Range.parse(outputRange, "--output-len-range") : new Workload.Range(outputLen, outputLen);
            return Workload.single(in, o);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(commandSpec.commandLine(), e.getMessage());
        }
    }

    private Vocabulary vocabulary(StreamClient client) throws IOException, InterruptedException {
        if (tokenRange == null) {
            return Vocabulary.fromServer(client);
        }
        String[] p = tokenRange.split(":", 2);
        try {
            return Vocabulary.range(Integer.parseInt(p[0].strip()), Integer.parseInt(p[1].strip()));
        } catch (RuntimeException e) {
            throw new CommandLine.ParameterException(commandSpec.commandLine(), "--token-range: expected LO:HI, got '" + tokenRange + "'");
        }
    }

    private static String firstModel(StreamClient client) throws IOException, InterruptedException {
        JsonNode r;
        try {
            r = client.getJson("/v1/models");
        } catch (java.net.ConnectException e) {
            throw new IOException("cannot connect to the server: " + e.getMessage(), e);
        }
        JsonNode id = r.path("data").path(0).path("id");
        if (!id.isTextual()) {
            throw new IOException("GET /v1/models listed no model; give one with --model");
        }
        return id.textValue();
    }
}
