package dev.tandem.bench.loadgen;

import java.io.PrintStream;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A run's results as the JSON {@code vllm bench serve --save-result} writes (same names where vllm has one:
 * {@code date}, {@code backend}, {@code model_id}, {@code num_prompts}, {@code request_rate},
 * {@code max_concurrency}, {@code duration}, the {@link Metrics} fields; with {@code --save-detailed}
 * {@code input_lens}, {@code output_lens}, {@code ttfts} and {@code itls} in seconds, {@code errors} one string per
 * request) plus ours: {@code label}, {@code workload}, {@code seed}, {@code goodput_slo}, {@code max_concurrent_requests}
 * and {@code classes} (per request class, the same metrics); and the table vllm prints.
 */
final class Report {
    private Report() {}

    record Context(String label, String baseUrl, String endpoint, String model, RunSpec spec, Goodput goodput, boolean detailed) {}

    static Map<String, Object> json(Context c, Runner.Outcome o) {
        RunSpec s = c.spec();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("date", ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        m.put("backend", c.endpoint().endsWith("/chat/completions") ? "openai-chat" : "openai");
        m.put("label", c.label());
        m.put("base_url", c.baseUrl());
        m.put("endpoint", c.endpoint());
        m.put("model_id", c.model());
        m.put("num_prompts", s.numPrompts() < 0 ? o.results().size() : s.numPrompts());
        m.put("request_rate", Double.isInfinite(s.requestRate()) ? "inf" : s.requestRate());
        m.put("burstiness", 1.0);
        m.put("max_concurrency", s.maxConcurrency() > 0 ? s.maxConcurrency() : null);
        m.put("duration_limit", Double.isInfinite(s.durationSeconds()) ? null : s.durationSeconds());
        m.put("seed", s.seed());
        m.put("workload", s.workload().toString());
        m.put("goodput_slo", c.goodput() == null ? null : c.goodput().asMap());
        m.put("duration", o.durationSeconds());
        m.putAll(Metrics.of(o.results(), o.durationSeconds(), c.goodput()));
        m.put("max_concurrent_requests", o.maxConcurrent());
        if (s.workload().hasClasses()) {
            Map<String, Object> classes = new LinkedHashMap<>();
            for (Workload.RequestClass rc : s.workload().classes()) {
                if (classes.containsKey(rc.name())) {
                    continue;
                }
                List<RequestResult> mine = o.results().stream().filter(r -> r.requestClass().equals(rc.name())).toList();
                classes.put(rc.name(), Metrics.of(mine, o.durationSeconds(), c.goodput()));
            }
            m.put("classes", classes);
        }
        if (c.detailed()) {
            List<Integer> in = new ArrayList<>();
            List<Integer> out = new ArrayList<>();
            List<Double> ttfts = new ArrayList<>();
            List<List<Double>> itls = new ArrayList<>();
            List<String> errors = new ArrayList<>();
            for (RequestResult r : o.results()) {
                in.add(r.success() ? r.inputTokens() : r.plannedInput());
                out.add(r.outputTokens());
                ttfts.add(r.ttftMs() / 1e3);
                List<Double> l = new ArrayList<>(r.itlsMs().length);
                for (double v : r.itlsMs()) {
                    l.add(v / 1e3);
                }
                itls.add(l);
                errors.add(r.detail());
            }
            m.put("input_lens", in);
            m.put("output_lens", out);
            m.put("ttfts", ttfts);
            m.put("itls", itls);
            m.put("errors", errors);
        }
        return m;
    }

    /** The table {@code vllm bench serve} prints, with p90 and max added, then per-class lines and failure reasons. */
    static void print(PrintStream out, Map<String, Object> m) {
        out.println(center(" Serving Benchmark Result ", '='));
        row(out, "Successful requests:", m.get("completed"));
        row(out, "Failed requests:", m.get("failed"));
        if (m.get("max_concurrency") != null) {
            row(out, "Maximum request concurrency:", m.get("max_concurrency"));
        }
        row(out, "Request rate configured (RPS):", m.get("request_rate"));
        row(out, "Benchmark duration (s):", m.get("duration"));
        row(out, "Total input tokens:", m.get("total_input_tokens"));
        row(out, "Total generated tokens:", m.get("total_output_tokens"));
        row(out, "Request throughput (req/s):", m.get("request_throughput"));
        if (m.get("request_goodput") != null) {
            row(out, "Request goodput (req/s):", m.get("request_goodput"));
        }
        row(out, "Output token throughput (tok/s):", m.get("output_throughput"));
        row(out, "Total Token throughput (tok/s):", m.get("total_token_throughput"));
        section(out, m, "ttft", "TTFT", "Time to First Token");
        section(out, m, "tpot", "TPOT", "Time per Output Token (excl. 1st token)");
        section(out, m, "itl", "ITL", "Inter-token Latency");
        section(out, m, "e2el", "E2EL", "End-to-end Latency");
        if (m.get("classes") instanceof Map<?, ?> classes) {
            out.println(center("Per request class", '-'));
            out.printf(Locale.ROOT, "%-10s %6s %6s %10s %10s %10s %10s %10s%n", "class", "done", "failed", "p50 TTFT", "p99 TTFT",
                    "p50 ITL", "p99 ITL", "mean TPOT");
            for (var e : classes.entrySet()) {
                Map<?, ?> c = (Map<?, ?>) e.getValue();
                out.printf(Locale.ROOT, "%-10s %6s %6s %10.2f %10.2f %10.2f %10.2f %10.2f%n", e.getKey(), c.get("completed"), c.get("failed"),
                        c.get("median_ttft_ms"), c.get("p99_ttft_ms"), c.get("median_itl_ms"), c.get("p99_itl_ms"), c.get("mean_tpot_ms"));
            }
        }
        if (m.get("error_reasons") instanceof Map<?, ?> reasons && !reasons.isEmpty()) {
            out.println(center("Failures", '-'));
            for (var e : reasons.entrySet()) {
                row(out, e.getKey() + ":", e.getValue());
            }
        }
        out.println("=".repeat(50));
    }

    private static void section(PrintStream out, Map<String, Object> m, String key, String name, String title) {
        out.println(center(title, '-'));
        row(out, "Mean " + name + " (ms):", m.get("mean_" + key + "_ms"));
        row(out, "Median " + name + " (ms):", m.get("median_" + key + "_ms"));
        row(out, "P90 " + name + " (ms):", m.get("p90_" + key + "_ms"));
        row(out, "P99 " + name + " (ms):", m.get("p99_" + key + "_ms"));
        row(out, "Max " + name + " (ms):", m.get("max_" + key + "_ms"));
    }

    private static void row(PrintStream out, String name, Object value) {
        String v = value instanceof Double d ? String.format(Locale.ROOT, "%.2f", d) : String.valueOf(value);
        out.printf(Locale.ROOT, "%-40s%-10s%n", name, v);
    }

    static String center(String title, char fill) {
        int pad = Math.max(0, 50 - title.length());
        int left = pad / 2;
        return String.valueOf(fill).repeat(left) + title + String.valueOf(fill).repeat(pad - left);
    }
}
