package dev.tandem.bench.plot;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small line chart written as SVG text: named series of (x, y) points, axes with ticks (linear or log10
 * each), grid, legend and title. No dependencies; the output is well-formed XML. Points that cannot be drawn
 * (NaN, infinite, or ≤ 0 on a log axis) are skipped, which breaks the line there.
 */
public final class SvgChart {
    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
    private static final int WIDTH = 720;
    private static final int HEIGHT = 440;
    private static final int LEFT = 80;
    private static final int RIGHT = 170; // room for the legend
    private static final int TOP = 44;
    private static final int BOTTOM = 56;

    /** One line: its name in the legend and its points in drawing order. */
    public record Series(String name, double[] x, double[] y) {
        public Series {
            if (x.length != y.length) {
                throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values but " + y.length + " y values");
            }
        }
    }

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final boolean logX;
    private final boolean logY;
    private final List<Series> series = new ArrayList<>();

    public SvgChart(String title, String xLabel, String yLabel, boolean logX, boolean logY) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.logX = logX;
        this.logY = logY;
    }

    public SvgChart add(Series s) {
        series.add(s);
        return this;
    }

    /** An axis: data range mapped onto pixels, with its ticks. */
    record Axis(double lo, double hi, boolean log, List<Double> ticks) {
        /** Position in [0, 1] of a value. */
        double frac(double v) {
            double a = log ? Math.log10(v) : v;
            double b = log ? Math.log10(lo) : lo;
            double c = log ? Math.log10(hi) : hi;
            return c == b ? 0.5 : (a - b) / (c - b);
        }

        static Axis of(double min, double max, boolean log) {
            if (!(min <= max)) { // no data
                return log ? new Axis(1, 10, true, List.of(1.0, 10.0)) : new Axis(0, 1, false, niceTicks(0, 1));
            }
            if (log) {
                double lo = Math.pow(10, Math.floor(Math.log10(min)));
                double hi = Math.pow(10, Math.ceil(Math.log10(max)));
                if (hi <= lo) {
                    hi = lo * 10;
                }
                List<Double> t = new ArrayList<>();
                int decades = (int) Math.round(Math.log10(hi / lo));
                for (double d = lo; d <= hi * 1.0001; d *= 10) {
                    t.add(d);
                    if (decades <= 2 && d * 2 < hi) {
                        t.add(d * 2);
                        if (d * 5 < hi) {
                            t.add(d * 5);
                        }
                    }
                }
                return new Axis(lo, hi, true, t);
            }
            double lo = Math.min(0, min);
            double hi = max == lo ? lo + 1 : max;
            List<Double> t = niceTicks(lo, hi);
            return new Axis(t.getFirst(), t.getLast(), false, t);
        }

        /** About five ticks at 1, 2 or 5 × 10^k steps covering [lo, hi]. */
        static List<Double> niceTicks(double lo, double hi) {
            double raw = (hi - lo) / 5;
            double mag = Math.pow(10, Math.floor(Math.log10(raw)));
            double step = raw / mag <= 1 ? mag : raw / mag <= 2 ? 2 * mag : raw / mag <= 5 ? 5 * mag : 10 * mag;
            List<Double> t = new ArrayList<>();
            double start = Math.floor(lo / step) * step;
            for (int i = 0; ; i++) {
                double v = start + i * step;
                t.add(Math.abs(v) < step * 1e-9 ? 0 : v);
                if (v >= hi - step * 1e-9) {
                    break;
                }
            }
            return t;
        }
    }

    private boolean drawable(double v, boolean log) {
        return Double.isFinite(v) && (!log || v > 0);
    }

    public String render() {
        double xmin = Double.POSITIVE_INFINITY, xmax = Double.NEGATIVE_INFINITY, ymin = Double.POSITIVE_INFINITY, ymax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                if (drawable(s.x()[i], logX) && drawable(s.y()[i], logY)) {
                    xmin = Math.min(xmin, s.x()[i]);
                    xmax = Math.max(xmax, s.x()[i]);
                    ymin = Math.min(ymin, s.y()[i]);
                    ymax = Math.max(ymax, s.y()[i]);
                }
            }
        }
        Axis ax = Axis.of(xmin, xmax, logX);
        Axis ay = Axis.of(ymin, ymax, logY);
        int pw = WIDTH - LEFT - RIGHT;
        int ph = HEIGHT - TOP - BOTTOM;
        StringBuilder sb = new StringBuilder();
        sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"sans-serif\" font-size=\"12\">\n", WIDTH, HEIGHT, WIDTH, HEIGHT));
        sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", WIDTH, HEIGHT));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", LEFT, esc(title)));
        for (double t : ax.ticks()) {
            double px = LEFT + ax.frac(t) * pw;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e0e0e0\"/>\n", px, TOP, px, TOP + ph));
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", px, TOP + ph + 16, esc(num(t))));
        }
        for (double t : ay.ticks()) {
            double py = TOP + (1 - ay.frac(t)) * ph;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n", LEFT, py, LEFT + pw, py));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", LEFT - 6, py + 4, esc(num(t))));
        }
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n", LEFT, TOP, pw, ph));
        sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", LEFT + pw / 2.0, HEIGHT - 14,
                esc(xLabel + (logX ? " (log)" : ""))));
        sb.append(String.format(Locale.ROOT, "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
                TOP + ph / 2.0, esc(yLabel + (logY ? " (log)" : ""))));
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            String color = COLORS[k % COLORS.length];
            StringBuilder path = new StringBuilder();
            boolean pen = false;
            for (int i = 0; i < s.x().length; i++) {
                if (!drawable(s.x()[i], logX) || !drawable(s.y()[i], logY)) {
                    pen = false;
                    continue;
                }
                double px = LEFT + ax.frac(s.x()[i]) * pw;
                double py = TOP + (1 - ay.frac(s.y()[i])) * ph;
                path.append(String.format(Locale.ROOT, "%s%.1f %.1f ", pen ? "L" : "M", px, py));
                pen = true;
                sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px, py, color));
            }
            if (!path.isEmpty()) {
                sb.append(String.format(Locale.ROOT, "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", path.toString().strip(), color));
            }
            int ly = TOP + 10 + k * 20;
            int lx = LEFT + pw + 14;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>\n", lx, ly, lx + 20, ly, color));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>\n", lx + 26, ly + 4, esc(s.name())));
        }
        sb.append("</svg>\n");
        return sb.toString();
    }

    /** A tick label: integers plainly, others with up to 3 significant decimals. */
    static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e9) {
            return Long.toString((long) v);
        }
        String s = String.format(Locale.ROOT, "%.3g", v);
        return s.contains("e") ? s : s.replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
