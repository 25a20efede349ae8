package dev.tandem.cluster;

import dev.tandem.engine.FinishReason;
import dev.tandem.engine.GenerationRequest;
import dev.tandem.engine.SplitEngine;
import dev.tandem.model.Model;
import dev.tandem.tokenizer.Tokenizers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * In one JVM over loopback TCP: a router, two prefill nodes and one decode node give the same
 * tokens, text and log-probabilities (bit for bit) as a local split engine; every node's KV pages
 * return to the pool; a prefill node that dies is routed around.
 */
class ClusterTransferTest {
    @TempDir
    static Path dir;
    static Model model;
    static SplitEngine local;
    static ClusterFixture.Node p1, p2, d1;
    static RemoteEngine router;

    @BeforeAll
    static void start() throws Exception {
        model = Model.load(ClusterFixture.makeModel(dir, "tiny.gguf", 7L));
        local = ClusterFixture.engine(model, Tokenizers.fromGguf(model.file()));
        p1 = ClusterFixture.Node.start(model, true);
        p2 = ClusterFixture.Node.start(model, true);
        d1 = ClusterFixture.Node.start(model, false);
        router = ClusterFixture.router(model, List.of(p1, p2), List.of(d1));
        ClusterFixture.awaitNodes(router, 2, 1);
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {router, p1, p2, d1, local}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // closing what is left
            }
        }
        if (model != null) {
            model.close();
        }
    }

    private static String run(dev.tandem.engine.Engine e, GenerationRequest r) throws Exception {
        CollectingSink s = new CollectingSink();
        e.submit(r, s);
        s.await(30);
        assertEquals(1, s.terminalCalls, "terminal calls");
        return s.transcript();
    }

    @Test
    void greedyAndSampledRequestsMatchTheLocalEngineBitForBit() throws Exception {
        List<GenerationRequest> requests = new ArrayList<>();
        requests.add(ClusterFixture.greedy(ClusterFixture.prompt(5, 1), 12));
        requests.add(ClusterFixture.greedy(ClusterFixture.prompt(37, 2), 20));   // 3 pages, the last partial
        requests.add(ClusterFixture.greedy(ClusterFixture.prompt(130, 3), 9));   // longer than one prefill chunk
        requests.add(ClusterFixture.sampled(ClusterFixture.prompt(23, 4), 16, 99L)); // the sampler's stream moves across
        requests.add(ClusterFixture.greedy(ClusterFixture.prompt(9, 5), 1));     // ends with its first token: nothing to ship
        for (GenerationRequest r : requests) {
            String want = run(local, r);
            String got = run(router, r);
            assertEquals(want, got, "prompt of " + r.promptTokens().length + " tokens, max " + r.maxTokens() + ", sampling " + r.sampling());
            assertTrue(got.contains("end " + (r.maxTokens() == 1 ? FinishReason.LENGTH : FinishReason.LENGTH)), got);
        }
        awaitPagesFree(d1);
        awaitPagesFree(p1);
        awaitPagesFree(p2);
    }

    @Test
    void stopStringsEndTheSameWayIncludingAtTheFirstToken() throws Exception {
        int[] prompt = ClusterFixture.prompt(21, 9);
        CollectingSink plain = new CollectingSink();
        local.submit(ClusterFixture.greedy(prompt, 12), plain);
        plain.await(30);
        String text = String.join("", plain.pieces);
        // a stop string inside the output (after the first token), and one that the first token's text completes
        List<String> stops = new ArrayList<>();
        int firstLen = plain.pieces.get(0).length();
        if (text.length() > firstLen + 3) {
            stops.add(text.substring(firstLen + 1, firstLen + 3));
        }
        if (firstLen > 0) {
            stops.add(plain.pieces.get(0));
        }
        assertTrue(!stops.isEmpty(), "the model's output has text to stop on: '" + text + "'");
        for (String stop : stops) {
            GenerationRequest r = new GenerationRequest(prompt, dev.tandem.model.SamplingParams.greedy(), 12, List.of(stop),
                    true, true, 2);
            String want = run(local, r);
            assertEquals(want, run(router, r), "stop '" + stop + "' in '" + text + "'");
            assertTrue(want.contains("end STOP"), want);
        }
        awaitPagesFree(d1);
    }

    @Test
    void concurrentRequestsAllComplete() throws Exception {
        List<CollectingSink> sinks = new ArrayList<>();
        List<String> want = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            GenerationRequest r = ClusterFixture.greedy(ClusterFixture.prompt(10 + 7 * i, 100 + i), 8);
            want.add(run(local, r));
            CollectingSink s = new CollectingSink();
            router.submit(r, s);
            sinks.add(s);
        }
        for (int i = 0; i < sinks.size(); i++) {
            sinks.get(i).await(30);
            assertEquals(want.get(i), sinks.get(i).transcript(), "request " + i);
        }
        awaitPagesFree(d1);
    }

    @Test
    void cancellingThroughTheRouterEndsTheRequestEverywhere() throws Exception {
        CollectingSink s = new CollectingSink();
        var h = router.submit(ClusterFixture.greedy(ClusterFixture.prompt(20, 7), 200), s);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (s.tokens.size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        h.cancel();
        s.await(10);
        assertNull(s.error, "error");
        assertEquals(FinishReason.CANCELLED, s.reason, s.transcript());
        awaitPagesFree(d1);
    }

    @Test
    void nodesFoundThroughADnsNameServeTheSameAnswers() throws Exception {
        // "localhost" stands in for a headless service: every address it resolves to is a node (those where nothing listens stay down).
        var tok = Tokenizers.fromGguf(model.file());
        try (RemoteEngine viaDns = Cluster.router(new dev.tandem.engine.ModelInfo("test", ClusterFixture.CTX, tok, null),
                Cluster.modelIdentity(model.file()), ClusterFixture.TOKEN, List.of(), List.of(),
                List.of("localhost:" + p2.http().port()), List.of("localhost:" + d1.http().port()))) {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while ((viaDns.usableNodes(ClusterNode.Kind.PREFILL) < 1 || viaDns.usableNodes(ClusterNode.Kind.DECODE) < 1)
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1, viaDns.usableNodes(ClusterNode.Kind.DECODE), viaDns.describe());
            GenerationRequest r = ClusterFixture.greedy(ClusterFixture.prompt(33, 8), 6);
            assertEquals(run(local, r), run(viaDns, r));
        }
    }

    @Test
    void aDecodeNodeWithoutRoomIsPassedOver() throws Exception {
        // A decode node that refuses everything (queue of 0) but looks the most attractive (the most free KV pages).
        var registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        SplitEngine refusing = ClusterFixture.engine(model, Tokenizers.fromGguf(model.file()), 8 * ClusterFixture.CTX, 0, registry);
        try (ClusterFixture.Node full = ClusterFixture.Node.start(model, false, refusing);
             RemoteEngine r2 = ClusterFixture.router(model, List.of(p1), List.of(full, d1))) {
            ClusterFixture.awaitNodes(r2, 1, 2);
            for (int i = 0; i < 3; i++) {
                GenerationRequest r = ClusterFixture.greedy(ClusterFixture.prompt(15 + i, 20 + i), 5);
                assertEquals(run(local, r), run(r2, r), "request " + i);
            }
            assertEquals(0, full.role().health().get("registered"));
            assertEquals(3.0, registry.get("tandem.requests").tag("state", "rejected").counter().count(),
                    "the refusing node was asked first each time (it has the most free pages) and refused");
        }
        awaitPagesFree(d1);
    }

    static void awaitPagesFree(ClusterFixture.Node n) throws InterruptedException {
        var kv = n.engine().decodeKv();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (kv.freePages() != kv.pages && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(kv.pages, kv.freePages(), "free KV pages on " + n.role().health());
        assertNotNull(n.role().health().get("kv_port"));
    }
}
