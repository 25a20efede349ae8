package dev.tandem.cluster;

import dev.tandem.engine.Engine;
import dev.tandem.engine.EngineConfig;
import dev.tandem.engine.EngineException;
import dev.tandem.engine.FinishReason;
import dev.tandem.engine.GenerationRequest;
import dev.tandem.engine.KvMigration;
import dev.tandem.engine.Logprobs;
import dev.tandem.engine.ModelInfo;
import dev.tandem.engine.SplitConfig;
import dev.tandem.engine.SplitEngine;
import dev.tandem.engine.TokenSink;
import dev.tandem.engine.Usage;
import dev.tandem.http.HttpServer;
import dev.tandem.http.ServerConfig;
import dev.tandem.model.KvCache;
import dev.tandem.model.Model;
import dev.tandem.model.SamplingParams;
import dev.tandem.model.Sequence;
import dev.tandem.tokenizer.Tokenizer;
import dev.tandem.tokenizer.Tokenizers;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A measurement, not a test (issue 12, point 7): in one JVM over loopback TCP,
 * <ol>
 *   <li>KV transfer throughput: a prompt's K/V (all layers) sent with the cluster protocol
 *       (KV_PAGE frames with CRC32C, checked and stored by the receiver), GB/s of KV bytes;</li>
 *   <li>time to first token and to the second token (the first one that needs the migrated KV) of
 *       one greedy request, median of {@code repeats}: in-process split engine with {@code handoff}
 *       and with {@code copy} migration, and across a router, a prefill node and a decode node
 *       (three engines in this JVM talking TCP, as {@code --role router|prefill|decode} do).</li>
 * </ol>
 * Prints a markdown table.
 * <pre>
 * ./mvnw -q -B test-compile dependency:build-classpath -pl server -am -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp server/target/test-classes:server/target/classes:$(cat /tmp/cp.txt) dev.tandem.cluster.TransferProbe \
 *     MODEL.gguf [threads=2] [repeats=5] [prompts=512,2000]
 * </pre>
 * The three engines of the cluster case share this JVM's CPUs (nothing is pinned), and the first
 * token of the cluster case reaches the client only from the decode node, after the transfer: its
 * TTFT includes the migration, which in-process TTFT does not (compare the 2nd-token columns too).
 */
public final class TransferProbe {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: TransferProbe MODEL.gguf [threads] [repeats] [prompt lengths, e.g. 512,2000]");
            System.exit(2);
        }
        Path file = Path.of(args[0]);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int[] lengths = Arrays.stream((args.length > 3 ? args[3] : "512,2000").split(",")).mapToInt(Integer::parseInt).toArray();
        int maxPrompt = Arrays.stream(lengths).max().orElseThrow();
        try (Model model = Model.load(file)) {
            Tokenizer tok = Tokenizers.fromGguf(model.file());
            int ctx = Math.min(model.config().contextLength(), maxPrompt + 16);
            if (ctx < maxPrompt + 2) {
                throw new IllegalArgumentException("the model's context " + model.config().contextLength() + " is too short for " + maxPrompt);
            }
            System.out.printf("model %s (%d layers, kv dim %d), %d threads, %d repeats, one JVM, loopback TCP, %d cores%n%n",
                    file.getFileName(), model.config().layers(), model.config().kvDim(), threads, repeats,
                    Runtime.getRuntime().availableProcessors());
            System.out.println("| prompt | KV bytes | transfer GB/s | TTFT handoff | TTFT copy | TTFT cluster | 2nd token handoff | 2nd token copy | 2nd token cluster |");
            System.out.println("|---|---|---|---|---|---|---|---|---|");
            for (int n : lengths) {
                double[] transfer = transfer(model, n, repeats);
                double[] handoff = local(model, tok, ctx, threads, KvMigration.Strategy.HANDOFF, n, repeats);
                double[] copy = local(model, tok, ctx, threads, KvMigration.Strategy.COPY, n, repeats);
                double[] cluster = cluster(model, tok, ctx, threads, n, repeats);
                System.out.printf("| %d | %.1f MB | %.2f | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f ms |%n", n,
                        transfer[0] / 1e6, transfer[1], handoff[0], copy[0], cluster[0], handoff[1], copy[1], cluster[1]);
            }
        }
    }

    private static int[] prompt(int n, long seed, int vocab) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] p = new int[n];
        p[0] = 1;
        for (int i = 1; i < n; i++) {
            p[i] = 3 + r.nextInt(Math.min(vocab, 512) - 3);
        }
        return p;
    }

    /** @return {KV bytes of one sequence, median GB/s} */
    private static double[] transfer(Model model, int n, int repeats) throws Exception {
        KvCache kv = KvCache.forPositions(model.config(), n, 16);
        Sequence s = new Sequence(n, 16);
        kv.reserve(s, n);
        ByteBuffer fill = ByteBuffer.allocate(kv.pageBytes(16)).order(ByteOrder.LITTLE_ENDIAN);
        for (int l = 0; l < kv.layers; l++) {
            for (int p = 0; p * 16 < n; p++) {
                int rows = Math.min(16, n - p * 16);
                fill.clear();
                for (int i = 0; i < 2 * rows * kv.kvDim; i++) {
                    fill.putFloat(i * 1e-3f);
                }
                fill.flip();
                kv.importPage(s, p, l, rows, fill);
            }
        }
        kv.setImportedLength(s, n);
        long bytes = (long) kv.pageBytes(1) * n * kv.layers;
        Hello hello = new Hello("decode", "", "probe", kv.kvType(), 16, kv.layers, kv.kvDim);
        PendingImport.KvShape shape = new PendingImport.KvShape(kv.layers, kv.kvDim, 16);
        PendingImport[] current = new PendingImport[1];
        CompletableFuture<?>[] arrived = new CompletableFuture<?>[1];
        FrameHandler receiver = new FrameHandler() {
            @Override
            public void frame(Channel ch, int type, ByteBuf b) {
                b.readLong();
                String why = switch (type) {
                    case Frame.SEQ_BEGIN -> current[0].begin(ch, b.readInt(), b.readInt());
                    case Frame.KV_PAGE -> current[0].page(ch, b);
                    case Frame.SEQ_END -> current[0].end(ch, b.readInt(), Wire.readLogprobs(b), b.readLong(), b.readBoolean());
                    default -> "unexpected " + Frame.typeName(type);
                };
                if (why != null) {
                    arrived[0].completeExceptionally(new IllegalStateException(why));
                } else if (type == Frame.SEQ_END) {
                    arrived[0].complete(null);
                }
            }

            @Override
            public void closed(Channel ch) {}
        };
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        double[] gbps = new double[repeats + 1];
        try (NodeServer server = NodeServer.start("127.0.0.1", 0, hello, receiver)) {
            Peer peer = Peer.connect(group, "127.0.0.1", server.port(), hello, receiver);
            peer.ready.get(10, TimeUnit.SECONDS);
            for (int i = 0; i <= repeats; i++) { // the first round warms up
                current[0] = new PendingImport(n, shape);
                arrived[0] = new CompletableFuture<>();
                long t0 = System.nanoTime();
                new KvStream(peer.channel(), i, n, 16).sendAll(kv, s, 0, null, 0);
                arrived[0].get(60, TimeUnit.SECONDS);
                gbps[i] = bytes / (double) (System.nanoTime() - t0);
            }
            peer.close();
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
        }
        return new double[] {bytes, median(Arrays.copyOfRange(gbps, 1, gbps.length))};
    }

    private static EngineConfig config(int ctx, int threads) {
        return new EngineConfig("probe", threads, 2, 512, ctx, 2 * ctx, 4);
    }

    private static SplitEngine split(Model model, Tokenizer tok, int ctx, int threads, KvMigration.Strategy m) {
        return new SplitEngine(model, tok, null, config(ctx, threads), new SplitConfig(Math.max(1, threads - 1), 1, List.of(), m),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    private static double[] local(Model model, Tokenizer tok, int ctx, int threads, KvMigration.Strategy m, int n, int repeats)
            throws Exception {
        try (SplitEngine e = split(model, tok, ctx, threads, m)) {
            return timings(e, model, n, repeats);
        }
    }

    private static double[] cluster(Model model, Tokenizer tok, int ctx, int threads, int n, int repeats) throws Exception {
        String hash = Cluster.modelIdentity(model.file());
        try (SplitEngine pe = split(model, tok, ctx, threads, KvMigration.Strategy.HANDOFF);
             SplitEngine de = split(model, tok, ctx, threads, KvMigration.Strategy.HANDOFF);
             Cluster.Role pr = Cluster.prefill(pe, hash, "probe", "127.0.0.1", 0);
             Cluster.Role dr = Cluster.decode(de, hash, "probe", "127.0.0.1", 0);
             HttpServer ph = HttpServer.start(ServerConfig.loopback(0), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), l -> { });
             HttpServer dh = HttpServer.start(ServerConfig.loopback(0), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), l -> { })) {
            ph.healthDetails(pr::health);
            ph.ready(pe);
            dh.healthDetails(dr::health);
            dh.ready(de);
            try (RemoteEngine router = Cluster.router(new ModelInfo("probe", ctx, tok, null), hash, "probe",
                    List.of("127.0.0.1:" + ph.port()), List.of("127.0.0.1:" + dh.port()), List.of(), List.of())) {
                ClusterFixture.awaitNodes(router, 1, 1);
                return timings(router, model, n, repeats);
            }
        }
    }

    /** @return {median ms to the first token, median ms to the second} of a greedy 2-token request, after one warm-up */
    private static double[] timings(Engine e, Model model, int n, int repeats) throws Exception {
        double[] first = new double[repeats], second = new double[repeats];
        for (int i = 0; i <= repeats; i++) {
            GenerationRequest r = new GenerationRequest(prompt(n, 11 + i, model.config().vocab()), SamplingParams.greedy(), 2,
                    List.of(), true, false, 0);
            long[] at = new long[2];
            CompletableFuture<String> done = new CompletableFuture<>();
            long t0 = System.nanoTime();
            e.submit(r, new TokenSink() {
                int k;

                @Override
                public void onToken(int tokenId, String textPiece, Logprobs logprobs) {
                    if (k < 2) {
                        at[k++] = System.nanoTime();
                    }
                }

                @Override
                public void onFinish(FinishReason reason, Usage usage) {
                    done.complete(reason.name());
                }

                @Override
                public void onError(EngineException error) {
                    done.completeExceptionally(error);
                }
            });
            done.get(300, TimeUnit.SECONDS);
            if (i > 0) {
                first[i - 1] = (at[0] - t0) / 1e6;
                second[i - 1] = (at[1] - t0) / 1e6;
            }
        }
        return new double[] {median(first), median(second)};
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
