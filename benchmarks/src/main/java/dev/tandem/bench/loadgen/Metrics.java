package dev.tandem.bench.loadgen;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The numbers of a run (or of one request class of it), named as {@code vllm bench serve} names them:
 * {@code completed}, {@code total_input_tokens}, {@code request_throughput}, {@code request_goodput},
 * {@code mean_ttft_ms}, {@code p99_itl_ms}, … plus {@code failed}, {@code max_*_ms}, {@code p90_*_ms} and
 * {@code error_reasons} (failure class → count). TTFT and E2EL over completed requests; TPOT over completed
 * requests with more than one output token; ITL over all gaps of all completed requests.
 */
final class Metrics {
    static final List<String> LATENCIES = List.of("ttft", "tpot", "itl", "e2el");

    private Metrics() {}

    /** {@code goodput} null: {@code request_goodput} is null (as vllm writes it without SLOs). */
    static Map<String, Object> of(List<RequestResult> results, double durationSeconds, Goodput goodput) {
        int completed = 0;
        int failed = 0;
        long in = 0;
        long out = 0;
        int good = 0;
        int itlCount = 0;
        Map<String, Integer> reasons = new TreeMap<>();
        for (RequestResult r : results) {
            if (r.success()) {
                completed++;
                in += r.inputTokens();
                out += r.outputTokens();
                itlCount += r.itlsMs().length;
                if (goodput != null && goodput.good(r)) {
                    good++;
                }
            } else {
                failed++;
                reasons.merge(r.reason(), 1, Integer::sum);
            }
        }
        double[] ttft = new double[completed];
        double[] e2el = new double[completed];
        double[] itl = new double[itlCount];
        int tpotCount = 0;
        int i = 0;
        int k = 0;
        for (RequestResult r : results) {
            if (r.success()) {
                ttft[i] = r.ttftMs();
                e2el[i] = r.e2elMs();
                i++;
                System.arraycopy(r.itlsMs(), 0, itl, k, r.itlsMs().length);
                k += r.itlsMs().length;
                if (r.outputTokens() > 1) {
                    tpotCount++;
                }
            }
        }
        double[] tpot = new double[tpotCount];
        int j = 0;
        for (RequestResult r : results) {
            if (r.success() && r.outputTokens() > 1) {
                tpot[j++] = r.tpotMs();
            }
        }
        double d = durationSeconds > 0 ? durationSeconds : Double.NaN;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("completed", completed);
        m.put("failed", failed);
        m.put("total_input_tokens", in);
        m.put("total_output_tokens", out);
        m.put("request_throughput", completed / d);
        m.put("request_goodput", goodput == null ? null : good / d);
        m.put("output_throughput", out / d);
        m.put("total_token_throughput", (in + out) / d);
        put(m, "ttft", Distribution.of(ttft));
        put(m, "tpot", Distribution.of(tpot));
        put(m, "itl", Distribution.of(itl));
        put(m, "e2el", Distribution.of(e2el));
        m.put("error_reasons", reasons);
        return m;
    }

    private static void put(Map<String, Object> m, String name, Distribution x) {
        m.put("mean_" + name + "_ms", x.mean());
        m.put("median_" + name + "_ms", x.median());
        m.put("std_" + name + "_ms", x.std());
        m.put("p90_" + name + "_ms", x.p90());
        m.put("p99_" + name + "_ms", x.p99());
        m.put("max_" + name + "_ms", x.max());
    }
}
