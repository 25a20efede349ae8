package dev.tandem.bench.loadgen;

import java.util.List;

/**
 * Service-level objectives for goodput ({@code --goodput ttft:MS tpot:MS [e2el:MS]}): a completed request is
 * "good" when each given bound holds (≤). Goodput is good requests per second of the run.
 */
record Goodput(double ttftMs, double tpotMs, double e2elMs) {
    static final double NONE = Double.POSITIVE_INFINITY;

    static Goodput parse(List<String> specs) {
        double ttft = NONE;
        double tpot = NONE;
        double e2el = NONE;
        for (String s : specs) {
            String[] kv = s.split(":", 2);
            double v;
            try {
                v = kv.length == 2 ? Double.parseDouble(kv[1].strip()) : Double.NaN;
            } catch (NumberFormatException e) {
                v = Double.NaN;
            }
            if (!(v >= 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("--goodput: expected METRIC:MILLISECONDS (ttft, tpot or e2el), got '" + s + "'");
            }
            switch (kv[0].strip().toLowerCase(java.util.Locale.ROOT)) {
                case "ttft" -> ttft = v;
                case "tpot" -> tpot = v;
                case "e2el" -> e2el = v;
                default -> throw new IllegalArgumentException("--goodput: unknown metric '" + kv[0].strip() + "' (ttft, tpot, e2el)");
            }
        }
        return new Goodput(ttft, tpot, e2el);
    }

    boolean good(RequestResult r) {
        return r.success() && r.ttftMs() <= ttftMs && r.tpotMs() <= tpotMs && r.e2elMs() <= e2elMs;
    }

    /** {@code {"ttft": 500.0, …}} for the bounds that are set. */
    java.util.Map<String, Double> asMap() {
        var m = new java.util.LinkedHashMap<String, Double>();
        if (ttftMs != NONE) {
            m.put("ttft", ttftMs);
        }
        if (tpotMs != NONE) {
            m.put("tpot", tpotMs);
        }
        if (e2elMs != NONE) {
            m.put("e2el", e2elMs);
        }
        return m;
    }
}
