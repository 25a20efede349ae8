package dev.tandem.bench.loadgen;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Which request lengths to send: a weighted list of classes, each drawing an input and an output length.
 * Built from {@code --input-len/--output-len} (fixed), {@code --input-len-range/--output-len-range} (uniform),
 * {@code --length-histogram FILE} or {@code --mix SPEC}. Draws are seeded: the same seed gives the same lengths.
 */
record Workload(List<RequestClass> classes) {

    /** Lengths drawn uniformly from {@code [lo, hi]} (lo == hi: fixed). */
    record Range(int lo, int hi) {
        Range {
            if (lo < 1 || hi < lo) {
                throw new IllegalArgumentException("a length range must have 1 ≤ lo ≤ hi, got " + lo + "-" + hi);
            }
        }

        int draw(SplittableRandom rng) {
            return lo == hi ? lo : lo + rng.nextInt(hi - lo + 1);
        }

        /** {@code N}, {@code LO-HI} or {@code LO:HI}. */
        static Range parse(String s, String what) {
            String t = s.strip();
            int sep = Math.max(t.indexOf('-'), t.indexOf(':'));
            try {
                if (sep < 0) {
                    int n = Integer.parseInt(t);
                    return new Range(n, n);
                }
                return new Range(Integer.parseInt(t.substring(0, sep).strip()), Integer.parseInt(t.substring(sep + 1).strip()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(what + ": expected N or LO-HI, got '" + s + "'");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(what + ": " + e.getMessage());
            }
        }

        @Override
        public String toString() {
            return lo == hi ? Integer.toString(lo) : lo + "-" + hi;
        }
    }

    /** One kind of request and how often it comes (weights need not sum to 1). */
    record RequestClass(String name, double weight, Range input, Range output) {
        RequestClass {
            if (!(weight > 0) || Double.isInfinite(weight)) {
                throw new IllegalArgumentException("class '" + name + "': the weight must be a positive number, got " + weight);
            }
        }
    }

    /** Input and output length of one draw. */
    record Draw(String requestClass, int inputLen, int outputLen) {}

    Workload {
        if (classes.isEmpty()) {
            throw new IllegalArgumentException("the workload has no request classes");
        }
        classes = List.copyOf(classes);
    }

    static Workload single(Range input, Range output) {
        return new Workload(List.of(new RequestClass("default", 1, input, output)));
    }

    Draw draw(SplittableRandom rng) {
        double total = 0;
        for (RequestClass c : classes) {
            total += c.weight();
        }
        double u = rng.nextDouble() * total;
        RequestClass pick = classes.getLast();
        for (RequestClass c : classes) {
            u -= c.weight();
            if (u < 0) {
                pick = c;
                break;
            }
        }
        int in = pick.input().draw(rng);
        int out = pick.output().draw(rng);
        return new Draw(pick.name(), in, out);
    }

    /** True when results should be broken down by class (more than one class name). */
    boolean hasClasses() {
        return classes.stream().map(RequestClass::name).distinct().count() > 1;
    }

    /**
     * {@code NAME:WEIGHT:input=RANGE,output=RANGE[;…]}, e.g.
     * {@code short:0.9:input=64-256,output=64-128;long:0.1:input=2000,output=32}.
     */
    static Workload parseMix(String spec) {
        List<RequestClass> out = new ArrayList<>();
        for (String part : spec.split(";")) {
            if (part.isBlank()) {
                continue;
            }
            String[] f = part.strip().split(":", 3);
            if (f.length != 3) {
                throw new IllegalArgumentException("--mix: expected NAME:WEIGHT:input=RANGE,output=RANGE, got '" + part.strip() + "'");
            }
            String name = f[0].strip();
            double weight;
            try {
                weight = Double.parseDouble(f[1].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--mix: class '" + name + "': the weight is not a number: '" + f[1] + "'");
            }
            Range in = null;
            Range outLen = null;
            for (String kv : f[2].split(",")) {
                String[] p = kv.split("=", 2);
                if (p.length != 2) {
                    throw new IllegalArgumentException("--mix: class '" + name + "': expected input=RANGE or output=RANGE, got '" + kv + "'");
                }
                switch (p[0].strip()) {
                    case "input" -> in = Range.parse(p[1], "--mix class '" + name + "' input");
                    case "output" -> outLen = Range.parse(p[1], "--mix class '" + name + "' output");
                    default -> throw new IllegalArgumentException("--mix: class '" + name + "': unknown key '" + p[0].strip()
                            + "' (input, output)");
                }
            }
            if (in == null || outLen == null) {
                throw new IllegalArgumentException("--mix: class '" + name + "' needs both input= and output=");
            }
            if (name.isEmpty() || out.stream().anyMatch(c -> c.name().equals(name))) {
                throw new IllegalArgumentException("--mix: class names must be non-empty and distinct, got '" + name + "'");
            }
            out.add(new RequestClass(name, weight, in, outLen));
        }
        return new Workload(out);
    }

    /**
     * A histogram file: CSV lines {@code input_len,output_len,weight[,class]}; blank lines, {@code #} comments and a
     * header line starting with a letter are skipped. Rows without a class are named "default".
     */
    static Workload readHistogram(Path file) throws IOException {
        List<RequestClass> rows = new ArrayList<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).strip();
            if (l.isEmpty() || l.startsWith("#") || (i == 0 && Character.isLetter(l.charAt(0)))) {
                continue;
            }
            String[] f = l.split(",");
            String at = file + ":" + (i + 1);
            if (f.length < 3 || f.length > 4) {
                throw new IllegalArgumentException(at + ": expected input_len,output_len,weight[,class], got '" + l + "'");
            }
            try {
                int in = Integer.parseInt(f[0].strip());
                int out = Integer.parseInt(f[1].strip());
                double w = Double.parseDouble(f[2].strip());
                rows.add(new RequestClass(f.length == 4 ? f[3].strip() : "default", w, new Range(in, in), new Range(out, out)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(at + ": " + e.getMessage());
            }
        }
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(file + ": no histogram rows (input_len,output_len,weight[,class])");
        }
        return new Workload(rows);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (RequestClass c : classes) {
            if (!sb.isEmpty()) {
                sb.append("; ");
            }
            sb.append(c.name()).append(':').append(c.weight()).append(":input=").append(c.input()).append(",output=").append(c.output());
        }
        return sb.toString();
    }
}
