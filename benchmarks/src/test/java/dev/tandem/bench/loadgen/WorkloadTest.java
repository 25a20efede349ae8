package dev.tandem.bench.loadgen;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkloadTest {
    @Test
    void mixParsesClassesAndDrawsWithinTheirRanges() {
        Workload w = Workload.parseMix("short:0.9:input=64-256,output=64-128; long:0.1:input=2000,output=32");
        assertEquals(List.of(new Workload.RequestClass("short", 0.9, new Workload.Range(64, 256), new Workload.Range(64, 128)),
                new Workload.RequestClass("long", 0.1, new Workload.Range(2000, 2000), new Workload.Range(32, 32))), w.classes());
        assertTrue(w.hasClasses());
        SplittableRandom rng = new SplittableRandom(5);
        int longs = 0;
        int n = 10_000;
        for (int i = 0; i < n; i++) {
            Workload.Draw d = w.draw(rng);
            if (d.requestClass().equals("long")) {
                longs++;
                assertEquals(2000, d.inputLen());
                assertEquals(32, d.outputLen());
            } else {
                assertTrue(d.inputLen() >= 64 && d.inputLen() <= 256 && d.outputLen() >= 64 && d.outputLen() <= 128, d.toString());
            }
        }
        // binomial(n, 0.1): sd 30; 5 sd
        assertTrue(Math.abs(longs - 1000) < 150, longs + " long requests of " + n + ", want ≈ 1000");
    }

    @Test
    void uniformRangeReachesBothEnds() {
        Workload w = Workload.single(new Workload.Range(3, 5), new Workload.Range(7, 7));
        assertFalse(w.hasClasses());
        boolean[] seen = new boolean[6];
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < 300; i++) {
            Workload.Draw d = w.draw(rng);
            seen[d.inputLen()] = true;
            assertEquals(7, d.outputLen());
        }
        assertTrue(seen[3] && seen[4] && seen[5], "3, 4 and 5 all drawn");
    }

    @Test
    void histogramFileWithHeaderCommentsAndClasses(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("h.csv");
        Files.writeString(f, "input_len,output_len,weight,class\n# ShareGPT-like\n100,50,3,chat\n\n1500,20,1,doc\n");
        Workload w = Workload.readHistogram(f);
        assertEquals(List.of(new Workload.RequestClass("chat", 3, new Workload.Range(100, 100), new Workload.Range(50, 50)),
                new Workload.RequestClass("doc", 1, new Workload.Range(1500, 1500), new Workload.Range(20, 20))), w.classes());
        Files.writeString(f, "100,50\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Workload.readHistogram(f));
        assertEquals(f + ":1: expected input_len,output_len,weight[,class], got '100,50'", e.getMessage());
    }

    @Test
    void badMixSpecsNameTheProblem() {
        assertEquals("--mix: expected NAME:WEIGHT:input=RANGE,output=RANGE, got 'short:0.9'",
                assertThrows(IllegalArgumentException.class, () -> Workload.parseMix("short:0.9")).getMessage());
        assertEquals("--mix: class 'a' needs both input= and output=",
                assertThrows(IllegalArgumentException.class, () -> Workload.parseMix("a:1:input=5")).getMessage());
        assertEquals("--mix class 'a' input: a length range must have 1 ≤ lo ≤ hi, got 9-5",
                assertThrows(IllegalArgumentException.class, () -> Workload.parseMix("a:1:input=9-5,output=1")).getMessage());
        assertEquals("class 'a': the weight must be a positive number, got 0.0",
                assertThrows(IllegalArgumentException.class, () -> Workload.parseMix("a:0:input=9,output=1")).getMessage());
    }
}
