package dev.tandem.bench.plot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlotCommandTest {
    private static String result(String label, double rate, double p99Itl, double shortP99Itl, double goodput) {
        return String.format(Locale.ROOT, """
                {"label":"%s","request_rate":%s,"completed":10,"failed":1,"request_throughput":0.9,"output_throughput":50.0,
                 "request_goodput":%s,"median_ttft_ms":100,"p99_ttft_ms":300,"median_itl_ms":20,"p99_itl_ms":%s,"mean_tpot_ms":21,
                 "goodput_slo":{"ttft":1000.0,"tpot":100.0},
                 "classes":{"short":{"completed":9,"median_ttft_ms":90,"p99_ttft_ms":250,"median_itl_ms":19,"p99_itl_ms":%s,"mean_tpot_ms":20}}}
                """, label, rate, goodput, p99Itl, shortP99Itl);
    }

    @Test
    void sweepBecomesThreeChartsAndATable(@TempDir Path dir) throws Exception {
        Path in = Files.createDirectories(dir.resolve("results"));
        Files.writeString(in.resolve("split-1.json"), result("split", 1, 40, 35, 0.9));
        Files.writeString(in.resolve("split-0.5.json"), result("split", 0.5, 30, 25, 0.5));
        Files.writeString(in.resolve("colocated-0.5.json"), result("colocated", 0.5, 60, 55, 0.4));
        Files.writeString(in.resolve("notes.json"), "{\"something\":\"else\"}");
        Path out = dir.resolve("out");
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        int code = PlotCommand.run(new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(o, true, StandardCharsets.UTF_8),
                "--class", "short", "-o", out.toString(), in.toString());
        assertEquals(0, code, o.toString(StandardCharsets.UTF_8));
        for (String svg : List.of("p99_itl_vs_rate.svg", "p99_ttft_vs_rate.svg", "goodput_vs_rate.svg")) {
            var d = SvgChartTest.parse(Files.readString(out.resolve(svg)));
            assertEquals(3, d.getElementsByTagName("circle").getLength(), svg);
            assertTrue(SvgChartTest.texts(d).containsAll(List.of("split", "colocated")), svg);
        }
        assertTrue(SvgChartTest.texts(SvgChartTest.parse(Files.readString(out.resolve("goodput_vs_rate.svg"))))
                .contains("goodput (ttft ≤ 1000 ms, tpot ≤ 100 ms)"));
        List<String> rows = Files.readAllLines(out.resolve("summary.md"));
        assertEquals(5, rows.size(), String.join("\n", rows));
        // files are listed by name; rows group by label in first-seen order and sort by rate
        assertEquals("| colocated | 0.5 | 10 | 1 | 0.90 | 50.00 | 0.40 | 90.00 | 250.00 | 19.00 | 55.00 | 20.00 |", rows.get(2));
        assertEquals("| split | 0.5 | 10 | 1 | 0.90 | 50.00 | 0.50 | 90.00 | 250.00 | 19.00 | 25.00 | 20.00 |", rows.get(3));
        assertEquals("| split | 1 | 10 | 1 | 0.90 | 50.00 | 0.90 | 90.00 | 250.00 | 19.00 | 35.00 | 20.00 |", rows.get(4));
    }

    @Test
    void noResultsIsOneLineError(@TempDir Path dir) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = PlotCommand.run(new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8),
                "-o", dir.resolve("o").toString(), dir.toString());
        assertEquals(1, code);
        assertEquals("plot: no loadgen result files among [" + dir + "]", err.toString(StandardCharsets.UTF_8).strip());
    }
}
