package dev.tandem.bench.plot;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SvgChartTest {
    static Document parse(String svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    static List<String> texts(Document d) {
        NodeList t = d.getElementsByTagName("text");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < t.getLength(); i++) {
            out.add(t.item(i).getTextContent());
        }
        return out;
    }

    @Test
    void chartIsWellFormedWithOneMarkerPerDrawablePoint() throws Exception {
        SvgChart c = new SvgChart("p99 ITL <split & colocated>", "rate", "ms", true, true)
                .add(new SvgChart.Series("split", new double[] {0.25, 0.5, 1, 2}, new double[] {30, 32, 40, 900}))
                .add(new SvgChart.Series("colocated \"2t\"", new double[] {0.25, 0.5, 1, 2}, new double[] {35, Double.NaN, 0, 1200}));
        Document d = parse(c.render());
        assertEquals("svg", d.getDocumentElement().getLocalName());
        // NaN and 0 (on a log axis) are skipped: 4 + 2 markers
        assertEquals(6, d.getElementsByTagName("circle").getLength());
        // split draws one line; colocated's line is broken by the gap into two one-point moves
        assertEquals(2, d.getElementsByTagName("path").getLength());
        List<String> t = texts(d);
        assertTrue(t.contains("p99 ITL <split & colocated>"), t.toString());
        assertTrue(t.contains("split") && t.contains("colocated \"2t\""), t.toString());
        // y from 30 to 1200 on log10: decades 10..10000, ticks at powers of ten
        assertTrue(t.containsAll(List.of("10", "100", "1000", "10000")), t.toString());
    }

    @Test
    void linearTicksAreNiceNumbers() {
        assertEquals(List.of(0.0, 20.0, 40.0, 60.0, 80.0, 100.0), SvgChart.Axis.niceTicks(0, 87));
        assertEquals(List.of(0.0, 0.5, 1.0, 1.5, 2.0, 2.5), SvgChart.Axis.niceTicks(0, 2.3));
        SvgChart.Axis a = SvgChart.Axis.of(0.25, 2, true);
        assertEquals(List.of(0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0), a.ticks().stream().map(v -> Math.round(v * 1e9) / 1e9).toList());
    }

    @Test
    void emptyChartStillRenders() throws Exception {
        Document d = parse(new SvgChart("nothing", "x", "y", false, false).render());
        assertEquals(0, d.getElementsByTagName("circle").getLength());
    }
}
