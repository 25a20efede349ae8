package dev.tandem.bench.plot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code tandem plot}: a rate sweep's loadgen result files → {@code p99_itl_vs_rate.svg},
 * {@code p99_ttft_vs_rate.svg}, {@code goodput_vs_rate.svg} and {@code summary.md}. One line per {@code label}
 * (e.g. split, colocated, llama-server), x = the configured {@code request_rate}.
 */
@Command(name = "plot", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 100,
        description = "Plot loadgen results of a request-rate sweep (p99 ITL, p99 TTFT and goodput against the rate, "
                + "one line per --label: p99_itl_vs_rate.svg, p99_ttft_vs_rate.svg, goodput_vs_rate.svg) and write summary.md, "
                + "a markdown table of all runs.")
public final class PlotCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "RESULT", description = "Loadgen --result-file JSON files, or directories holding them.")
    List<Path> inputs;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Where to write the charts and summary.md.")
    Path out;

    @Option(names = "--class", paramLabel = "NAME",
            description = "Take TTFT and ITL from this request class of a mixed workload (e.g. short); goodput is always over all requests.")
    String requestClass;

    @Option(names = "--title", defaultValue = "", paramLabel = "TEXT", description = "Prefix for the chart titles (e.g. the model and machine).")
    String title;

    private PrintStream stdout = System.out;

    /** One run, as read from its result file. */
    record Run(String label, double rate, JsonNode all, JsonNode metrics, Path file) {
        double get(String field) {
            JsonNode n = metrics.get(field);
            return n == null || !n.isNumber() ? Double.NaN : n.asDouble();
        }
    }

    public static int run(PrintStream out, PrintStream err, String... args) {
        PlotCommand c = new PlotCommand();
        c.stdout = out;
        CommandLine cli = new CommandLine(c);
        cli.setOut(new java.io.PrintWriter(out, true));
        cli.setErr(new java.io.PrintWriter(err, true));
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            commandLine.getErr().println("plot: " + m.lines().findFirst().orElse(m));
            return 1;
        });
        return cli.execute(args);
    }

    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    @Override
    public Integer call() throws IOException {
        List<Run> runs = read();
        Map<String, List<Run>> byLabel = new LinkedHashMap<>();
        for (Run r : runs) {
            byLabel.computeIfAbsent(r.label(), k -> new ArrayList<>()).add(r);
        }
        byLabel.values().forEach(l -> l.sort(Comparator.comparingDouble(Run::rate)));
        Files.createDirectories(out);
        String cls = requestClass == null ? "" : " (" + requestClass + " requests)";
        String pre = title.isEmpty() ? "" : title + ": ";
        write("p99_itl_vs_rate.svg", chart(byLabel, pre + "p99 inter-token latency" + cls, "p99 ITL (ms)", "p99_itl_ms", true));
        write("p99_ttft_vs_rate.svg", chart(byLabel, pre + "p99 time to first token" + cls, "p99 TTFT (ms)", "p99_ttft_ms", true));
        write("goodput_vs_rate.svg", chart(byLabel, pre + "goodput" + slo(runs), "goodput (req/s)", "request_goodput", false));
        write("summary.md", Summary.markdown(byLabel, requestClass));
        stdout.print(Summary.markdown(byLabel, requestClass));
        return 0;
    }

    private String slo(List<Run> runs) {
        JsonNode s = runs.getFirst().all().get("goodput_slo");
        if (s == null || !s.isObject() || s.isEmpty()) {
            return " (no SLO given: loadgen --goodput)";
        }
        List<String> parts = new ArrayList<>();
        s.properties().forEach(e -> parts.add(e.getKey() + " ≤ " + SvgChart.num(e.getValue().asDouble()) + " ms"));
        return " (" + String.join(", ", parts) + ")";
    }

    private SvgChart chart(Map<String, List<Run>> byLabel, String chartTitle, String yLabel, String field, boolean fromClass) {
        boolean logX = byLabel.values().stream().flatMap(List::stream).mapToDouble(Run::rate).filter(r -> r > 0).max().orElse(1)
                / byLabel.values().stream().flatMap(List::stream).mapToDouble(Run::rate).filter(r -> r > 0).min().orElse(1) >= 8;
        SvgChart c = new SvgChart(chartTitle, "request rate (req/s)", yLabel, logX, fromClass);
        for (var e : byLabel.entrySet()) {
            List<Run> rs = e.getValue();
            double[] x = rs.stream().mapToDouble(Run::rate).toArray();
            double[] y = rs.stream().mapToDouble(r -> {
                JsonNode m = fromClass ? Summary.metrics(r, requestClass) : r.metrics();
                JsonNode v = m == null ? null : m.get(field);
                boolean none = m == null || m.path("completed").asInt() == 0;
                return none || v == null || !v.isNumber() ? Double.NaN : v.asDouble();
            }).toArray();
            c.add(new SvgChart.Series(e.getKey(), x, y));
        }
        return c;
    }

    private void write(String name, Object content) throws IOException {
        String text = content instanceof SvgChart c ? c.render() : content.toString();
        Files.writeString(out.resolve(name), text);
    }

    private List<Run> read() throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Path> files = new ArrayList<>();
        for (Path p : inputs) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    s.filter(f -> f.toString().endsWith(".json")).sorted().forEach(files::add);
                }
            } else {
                files.add(p);
            }
        }
        List<Run> runs = new ArrayList<>();
        for (Path f : files) {
            JsonNode n;
            try {
                n = json.readTree(f.toFile());
            } catch (IOException e) {
                throw new IOException(f + ": not a loadgen result (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
            }
            if (n == null || !n.has("request_rate") || !n.has("completed")) {
                continue; // some other JSON in the directory
            }
            JsonNode rate = n.get("request_rate");
            if (!rate.isNumber()) {
                System.err.println("plot: " + f + ": request rate " + rate + " is not a number; left out of the charts");
                continue;
            }
            String label = n.path("label").asText("");
            if (label.isEmpty()) {
                label = f.getFileName().toString().replaceAll("[-_]?[0-9.]+\\.json$", "").replaceAll("\\.json$", "");
            }
            runs.add(new Run(label, rate.asDouble(), n, n, f));
        }
        if (runs.isEmpty()) {
            throw new IOException("no loadgen result files among " + inputs.stream().map(Path::toString).toList());
        }
        return runs;
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2f", v);
    }
}
