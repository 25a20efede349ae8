package dev.tandem.cluster;

import dev.tandem.engine.ModelInfo;
import dev.tandem.engine.SplitEngine;
import dev.tandem.gguf.GgufFile;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The entry points of {@code tandem serve --role prefill|decode|router}: a prefill or decode node
 * is a split engine plus a cluster listener on its kv port; a router is a {@link RemoteEngine}.
 * Each role reports what the router needs through {@link Role#health()} (merged into {@code /health}).
 */
public final class Cluster {
    private Cluster() {}

    /** The model identity every node compares at the handshake ({@link ModelIdentity}). */
    public static String modelIdentity(GgufFile file) {
        return ModelIdentity.of(file);
    }

    /** A running role: its extra {@code /health} fields, and how to stop it. */
    public interface Role extends AutoCloseable {
        Map<String, Object> health();

        /** The kv port it listens on (0 for a router). */
        int kvPort();

        @Override
        void close();
    }

    /** A decode node: imports sequences into {@code engine} from prefill nodes, streams tokens to routers. */
    public static Role decode(SplitEngine engine, String modelHash, String token, String host, int kvPort)
            throws InterruptedException {
        DecodeSide side = new DecodeSide(engine);
        NodeServer server = NodeServer.start(host, kvPort, hello("decode", engine, modelHash, token), side);
        return new NodeRole("decode", engine, server, "registered", side::registered, () -> {});
    }

    /** A prefill node: prefills for routers into {@code engine}, ships each sequence to the decode node named. */
    public static Role prefill(SplitEngine engine, String modelHash, String token, String host, int kvPort)
            throws InterruptedException {
        Hello me = hello("prefill", engine, modelHash, token);
        EventLoopGroup clients = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        PrefillSide side = new PrefillSide(engine, clients, me);
        NodeServer server;
        try {
            server = NodeServer.start(host, kvPort, me, side);
        } catch (InterruptedException | RuntimeException e) {
            clients.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
        return new NodeRole("prefill", engine, server, "prefilling", side::active,
                () -> clients.shutdownGracefully(0, 1, TimeUnit.SECONDS));
    }

    private static Hello hello(String role, SplitEngine engine, String modelHash, String token) {
        var kv = engine.decodeKv();
        return new Hello(role, token, modelHash, kv.kvType(), kv.pageSize, kv.layers, kv.kvDim);
    }

    /** A prefill or decode node: its engine's load for the router's choice, one role-specific count, its listener. */
    private record NodeRole(String role, SplitEngine engine, NodeServer server, String activeName,
                            java.util.function.IntSupplier active, Runnable onClose) implements Role {
        @Override
        public Map<String, Object> health() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("role", role);
            m.put("kv_port", server.port());
            m.put("queue", engine.waitingCount());
            m.put("free_kv_blocks", engine.decodeKv().freePages());
            m.put("kv_blocks", engine.decodeKv().pages);
            m.put("batch", engine.batchSize());
            m.put(activeName, active.getAsInt());
            return m;
        }

        @Override
        public int kvPort() {
            return server.port();
        }

        @Override
        public void close() {
            server.close();
            onClose.run();
        }
    }

    /** A router's engine and role: places requests on the listed / discovered nodes. */
    public static RemoteEngine router(ModelInfo info, String modelHash, String token, List<String> prefill,
                                      List<String> decode, List<String> prefillDns, List<String> decodeDns) {
        return new RemoteEngine(info, new Hello("router", token, modelHash, "", 0, 0, 0), prefill, decode, prefillDns, decodeDns);
    }

    /** The router's {@code /health} fields. */
    public static Map<String, Object> routerHealth(RemoteEngine engine) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", "router");
        m.put("prefill_nodes_up", engine.usableNodes(ClusterNode.Kind.PREFILL));
        m.put("decode_nodes_up", engine.usableNodes(ClusterNode.Kind.DECODE));
        m.put("in_flight", engine.inFlight());
        m.put("nodes", engine.describe());
        return m;
    }
}
