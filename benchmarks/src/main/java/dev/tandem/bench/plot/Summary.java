package dev.tandem.bench.plot;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;

/** The markdown table of a sweep: one row per run, grouped by label, sorted by rate. */
final class Summary {
    private Summary() {}

    /** The run's metrics, or those of {@code requestClass} when given (null when the run has no such class). */
    static JsonNode metrics(PlotCommand.Run r, String requestClass) {
        if (requestClass == null) {
            return r.metrics();
        }
        JsonNode c = r.all().path("classes").get(requestClass);
        return c == null || !c.isObject() ? null : c;
    }

    static String markdown(Map<String, List<PlotCommand.Run>> byLabel, String requestClass) {
        String cls = requestClass == null ? "" : " " + requestClass;
        StringBuilder sb = new StringBuilder();
        sb.append("| label | rate (req/s) | completed | failed | req/s | output tok/s | goodput (req/s) | median TTFT").append(cls)
                .append(" (ms) | p99 TTFT").append(cls).append(" (ms) | median ITL").append(cls).append(" (ms) | p99 ITL").append(cls)
                .append(" (ms) | mean TPOT").append(cls).append(" (ms) |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (var e : byLabel.entrySet()) {
            for (PlotCommand.Run r : e.getValue()) {
                JsonNode m = metrics(r, requestClass);
                boolean none = m == null || m.path("completed").asInt() == 0;
                sb.append("| ").append(e.getKey())
                        .append(" | ").append(SvgChart.num(r.rate()))
                        .append(" | ").append(r.metrics().path("completed").asInt())
                        .append(" | ").append(r.metrics().path("failed").asInt())
                        .append(" | ").append(PlotCommand.fmt(r.get("request_throughput")))
                        .append(" | ").append(PlotCommand.fmt(r.get("output_throughput")))
                        .append(" | ").append(PlotCommand.fmt(r.get("request_goodput")));
                for (String f : new String[] {"median_ttft_ms", "p99_ttft_ms", "median_itl_ms", "p99_itl_ms", "mean_tpot_ms"}) {
                    sb.append(" | ").append(none ? "–" : PlotCommand.fmt(m.path(f).asDouble(Double.NaN)));
                }
                sb.append(" |\n");
            }
        }
        return sb.toString();
    }
}
