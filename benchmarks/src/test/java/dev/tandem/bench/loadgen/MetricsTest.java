package dev.tandem.bench.loadgen;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Percentiles, means and goodput against values worked out by hand (numpy's conventions). */
class MetricsTest {
    private static final double EPS = 1e-12;

    @Test
    void percentilesInterpolateBetweenRanks() {
        // sorted 1,2,3,4,10: rank 0.5·4 = 2 → 3; p90 rank 3.6 → 4 + 0.6·6 = 7.6; p99 rank 3.96 → 4 + 0.96·6 = 9.76
        Distribution d = Distribution.of(new double[] {10, 2, 4, 1, 3});
        assertEquals(5, d.count());
        assertEquals(4.0, d.mean(), EPS);
        assertEquals(3.0, d.median(), EPS);
        assertEquals(7.6, d.p90(), EPS);
        assertEquals(9.76, d.p99(), EPS);
        assertEquals(10.0, d.max(), EPS);
        // deviations −3,−2,−1,0,6 → squares 9,4,1,0,36 = 50 / 5 = 10
        assertEquals(Math.sqrt(10), d.std(), EPS);
    }

    @Test
    void evenCountMedianIsTheMiddlePairsMean() {
        Distribution d = Distribution.of(new double[] {4, 1, 3, 2});
        assertEquals(2.5, d.median(), EPS, "1,2,3,4");
    }

    @Test
    void emptySampleIsAllZero() {
        assertEquals(new Distribution(0, 0, 0, 0, 0, 0, 0), Distribution.of(new double[0]));
    }

    private static RequestResult ok(int i, String cls, int in, int out, double ttft, double e2el, double... itls) {
        return new RequestResult(i, cls, in, out, true, in, out, ttft, e2el, itls, null, "");
    }

    @Test
    void runMetricsAndGoodput() {
        List<RequestResult> rs = List.of(
                ok(0, "a", 10, 4, 100, 400, 100, 100, 100),  // tpot (400-100)/3 = 100
                ok(1, "a", 20, 3, 300, 500, 80, 120),        // tpot 100
                ok(2, "b", 30, 2, 50, 250, 200),             // tpot 200
                ok(3, "b", 40, 1, 60, 60),                   // one token: tpot 0, not in the TPOT sample
                RequestResult.failed(new PlannedRequest(4, "b", 5, 5, 0, new int[5]), "HTTP 429", "HTTP 429: queue full"),
                RequestResult.failed(new PlannedRequest(5, "a", 5, 5, 0, new int[5]), "HTTP 429", "HTTP 429: queue full"),
                RequestResult.failed(new PlannedRequest(6, "a", 5, 5, 0, new int[5]), "timeout", "no complete response"));
        Goodput slo = Goodput.parse(List.of("ttft:100", "tpot:150"));
        Map<String, Object> m = Metrics.of(rs, 2.0, slo);
        assertEquals(4, m.get("completed"));
        assertEquals(3, m.get("failed"));
        assertEquals(100L, m.get("total_input_tokens"));
        assertEquals(10L, m.get("total_output_tokens"));
        assertEquals(2.0, (double) m.get("request_throughput"), EPS);
        assertEquals(5.0, (double) m.get("output_throughput"), EPS);
        assertEquals(55.0, (double) m.get("total_token_throughput"), EPS);
        // good: #0 (ttft 100 ≤ 100, tpot 100) and #3 (ttft 60, tpot 0); #1 ttft 300 fails, #2 tpot 200 fails → 2 / 2 s
        assertEquals(1.0, (double) m.get("request_goodput"), EPS);
        assertEquals((100 + 300 + 50 + 60) / 4.0, (double) m.get("mean_ttft_ms"), EPS);
        assertEquals(400.0 / 3, (double) m.get("mean_tpot_ms"), EPS);
        // itls 80,100,100,100,120,200: median (100+100)/2, p99 rank 4.95 → 120 + 0.95·80 = 196
        assertEquals(100.0, (double) m.get("median_itl_ms"), EPS);
        assertEquals(196.0, (double) m.get("p99_itl_ms"), EPS);
        assertEquals(200.0, (double) m.get("max_itl_ms"), EPS);
        assertEquals(500.0, (double) m.get("max_e2el_ms"), EPS);
        assertEquals(Map.of("HTTP 429", 2, "timeout", 1), m.get("error_reasons"));
    }

    @Test
    void withoutSlosGoodputIsNull() {
        assertNull(Metrics.of(List.of(ok(0, "a", 1, 2, 1, 2, 1)), 1, null).get("request_goodput"));
    }

    @Test
    void goodputSpecErrorsNameTheProblem() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Goodput.parse(List.of("ttfb:10")));
        assertEquals("--goodput: unknown metric 'ttfb' (ttft, tpot, e2el)", e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Goodput.parse(List.of("ttft=10")));
        assertEquals("--goodput: expected METRIC:MILLISECONDS (ttft, tpot or e2el), got 'ttft=10'", e.getMessage());
    }
}
