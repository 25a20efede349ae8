package dev.tandem.cluster;

import dev.tandem.engine.EngineConfig;
import dev.tandem.engine.GenerationRequest;
import dev.tandem.engine.KvMigration;
import dev.tandem.engine.ModelInfo;
import dev.tandem.engine.SplitConfig;
import dev.tandem.engine.SplitEngine;
import dev.tandem.kernels.GgmlType;
import dev.tandem.http.HttpServer;
import dev.tandem.http.ServerConfig;
import dev.tandem.model.Model;
import dev.tandem.model.ModelMaker;
import dev.tandem.model.SamplingParams;
import dev.tandem.tokenizer.Tokenizer;
import dev.tandem.tokenizer.Tokenizers;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/** A tiny made model (llama, dim 64, 2 layers, 512-token vocabulary) and cluster nodes over it, in one JVM. */
final class ClusterFixture {
    static final String TOKEN = "test-token";
    static final int CTX = 256;

    private ClusterFixture() {}

    /** Makes the model file ({@code seed} changes its weights, so its identity). */
    static Path makeModel(Path dir, String name, long seed) throws Exception {
        Path file = dir.resolve(name);
        if (!Files.exists(file)) {
            ModelMaker.make(new ModelMaker.Spec("llama", 64, 2, 4, 2, 128, 0, GgmlType.Q8_0, seed, null, 0, 512, false), file);
        }
        return file;
    }

    static SplitEngine engine(Model model, Tokenizer tok) {
        return engine(model, tok, 4 * CTX, 16);
    }

    /** @param kvPositions the KV budget; {@code maxQueue} 0 makes an engine that refuses every request (OVERLOADED) */
    static SplitEngine engine(Model model, Tokenizer tok, int kvPositions, int maxQueue) {
        return engine(model, tok, kvPositions, maxQueue, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    static SplitEngine engine(Model model, Tokenizer tok, int kvPositions, int maxQueue, io.micrometer.core.instrument.MeterRegistry registry) {
        return new SplitEngine(model, tok, null, new EngineConfig("test", 1, 4, 64, CTX, kvPositions, maxQueue),
                new SplitConfig(1, 1, List.of(), KvMigration.Strategy.HANDOFF), registry);
    }

    /** A node: its engine, its cluster role and an HTTP server answering /health. */
    record Node(SplitEngine engine, Cluster.Role role, HttpServer http) implements AutoCloseable {
        static Node start(Model model, boolean prefill) throws Exception {
            return start(model, prefill, ClusterFixture.engine(model, Tokenizers.fromGguf(model.file())));
        }

        static Node start(Model model, boolean prefill, SplitEngine e) throws Exception {
            String hash = Cluster.modelIdentity(model.file());
            Cluster.Role r = prefill ? Cluster.prefill(e, hash, TOKEN, "127.0.0.1", 0) : Cluster.decode(e, hash, TOKEN, "127.0.0.1", 0);
            HttpServer h = HttpServer.start(ServerConfig.loopback(0), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), line -> { });
            h.healthDetails(r::health);
            h.ready(e);
            return new Node(e, r, h);
        }

        String address() {
            return "127.0.0.1:" + http.port();
        }

        @Override
        public void close() {
            role.close();
            http.close();
            engine.close();
        }
    }

    static RemoteEngine router(Model model, List<Node> prefill, List<Node> decode) {
        Tokenizer tok = Tokenizers.fromGguf(model.file());
        return Cluster.router(new ModelInfo("test", CTX, tok, null), Cluster.modelIdentity(model.file()), TOKEN,
                prefill.stream().map(Node::address).toList(), decode.stream().map(Node::address).toList(), List.of(), List.of());
    }

    /** Waits until the router sees {@code prefill} prefill and {@code decode} decode nodes up. */
    static void awaitNodes(RemoteEngine router, int prefill, int decode) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (router.usableNodes(ClusterNode.Kind.PREFILL) != prefill || router.usableNodes(ClusterNode.Kind.DECODE) != decode) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the router sees " + router.describe() + "; wanted " + prefill + " prefill and " + decode + " decode up");
            }
            Thread.sleep(20);
        }
    }

    static int[] prompt(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] p = new int[n];
        p[0] = 1;
        for (int i = 1; i < n; i++) {
            p[i] = 3 + r.nextInt(509);
        }
        return p;
    }

    static GenerationRequest greedy(int[] prompt, int maxTokens) {
        return new GenerationRequest(prompt, SamplingParams.greedy(), maxTokens, List.of(), true, true, 5);
    }

    static GenerationRequest sampled(int[] prompt, int maxTokens, long seed) {
        return new GenerationRequest(prompt, new SamplingParams(0.9f, 40, 0.95f, 0.05f, 1.1f, 0f, 0f, 64, seed),
                maxTokens, List.of(), true, true, 3);
    }
}
