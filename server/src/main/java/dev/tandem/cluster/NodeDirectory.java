package dev.tandem.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The router's picture of its nodes: listed ones ({@code --prefill}/{@code --decode host:port}) and
 * those a DNS name resolves to ({@code --prefill-dns}/{@code --decode-dns NAME:PORT}, re-resolved
 * every {@value #RESOLVE_MILLIS} ms: a Kubernetes headless service). Every {@value #POLL_MILLIS} ms
 * each node's {@code GET /health} is asked (timeout {@value #TIMEOUT_MILLIS} ms): an answer updates
 * its load and kv port (and connects to it when not connected); no answer marks it unhealthy and
 * closes its connection, so nothing is placed there within {@value #POLL_MILLIS} + {@value #TIMEOUT_MILLIS} ms.
 */
final class NodeDirectory implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NodeDirectory.class.getName());
    static final int POLL_MILLIS = 500;
    static final int TIMEOUT_MILLIS = 1000;
    static final int RESOLVE_MILLIS = 3000;

    final List<ClusterNode> nodes = new CopyOnWriteArrayList<>();
    private final List<String[]> dns; // {kind, name, port}
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(TIMEOUT_MILLIS)).build();
    private final ObjectMapper json = new ObjectMapper();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tandem-router-health");
        t.setDaemon(true);
        return t;
    });
    private final Consumer<ClusterNode> connect;   // opens the node's cluster connection
    private volatile long resolvedAt;

    /**
     * @param prefill,decode host:port HTTP addresses; {@code prefillDns}, {@code decodeDns}: NAME:PORT
     * @param connect called (on the health thread) for a healthy node without an open connection
     */
    NodeDirectory(List<String> prefill, List<String> decode, List<String> prefillDns, List<String> decodeDns,
                  Consumer<ClusterNode> connect) {
        this.connect = connect;
        for (String a : prefill) {
            add(ClusterNode.Kind.PREFILL, a);
        }
        for (String a : decode) {
            add(ClusterNode.Kind.DECODE, a);
        }
        this.dns = new java.util.ArrayList<>();
        for (String a : prefillDns) {
            dns.add(new String[] {"PREFILL", host(a), String.valueOf(port(a))});
        }
        for (String a : decodeDns) {
            dns.add(new String[] {"DECODE", host(a), String.valueOf(port(a))});
        }
    }

    void start() {
        timer.scheduleWithFixedDelay(this::round, 0, POLL_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void add(ClusterNode.Kind kind, String address) {
        nodes.add(new ClusterNode(kind, host(address), port(address)));
    }

    static String host(String address) {
        int i = address.lastIndexOf(':');
        if (i <= 0) {
            throw new IllegalArgumentException("'" + address + "' is not host:port");
        }
        String h = address.substring(0, i);
        return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    }

    static int port(String address) {
        int i = address.lastIndexOf(':');
        try {
            int p = Integer.parseInt(address.substring(i + 1));
            if (p < 1 || p > 65535) {
                throw new NumberFormatException();
            }
            return p;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("'" + address + "' is not host:port (a port 1..65535)");
        }
    }

    private void round() {
        try {
            if (!dns.isEmpty() && System.nanoTime() - resolvedAt > TimeUnit.MILLISECONDS.toNanos(RESOLVE_MILLIS)) {
                resolve();
            }
            for (ClusterNode n : nodes) {
                poll(n);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "router: health round failed: " + e);
        }
    }

    private void resolve() {
        resolvedAt = System.nanoTime();
        for (String[] d : dns) {
            ClusterNode.Kind kind = ClusterNode.Kind.valueOf(d[0]);
            int port = Integer.parseInt(d[2]);
            java.util.Set<String> now = new java.util.HashSet<>();
            try {
                for (InetAddress a : InetAddress.getAllByName(d[1])) {
                    now.add(a.getHostAddress());
                }
            } catch (UnknownHostException e) {
                LOG.log(System.Logger.Level.WARNING, "router: cannot resolve " + d[1] + ": " + e.getMessage());
                continue; // keep what we had: a DNS hiccup is not a dead node
            }
            for (ClusterNode n : nodes) {
                if (n.kind == kind && n.httpPort == port && n.fromDns && !now.contains(n.host)) {
                    n.removed = true;
                    nodes.remove(n);
                    Peer p = n.peer;
                    if (p != null) {
                        p.close();
                    }
                }
            }
            for (String h : now) {
                boolean known = nodes.stream().anyMatch(n -> n.kind == kind && n.httpPort == port && n.host.equals(h));
                if (!known) {
                    ClusterNode n = new ClusterNode(kind, h, port);
                    n.fromDns = true;
                    nodes.add(n);
                    LOG.log(System.Logger.Level.INFO, "router: discovered " + n.name() + " through " + d[1]);
                }
            }
        }
    }

    private void poll(ClusterNode n) {
        String host = n.host.contains(":") ? "[" + n.host + "]" : n.host;
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + host + ":" + n.httpPort + "/health"))
                .timeout(Duration.ofMillis(TIMEOUT_MILLIS)).GET().build();
        http.sendAsync(req, HttpResponse.BodyHandlers.ofString()).whenComplete((resp, failure) -> {
            if (failure != null || resp.statusCode() != 200) {
                down(n, failure != null ? String.valueOf(failure.getMessage()) : "status " + resp.statusCode());
                return;
            }
            try {
                JsonNode h = json.readTree(resp.body());
                n.kvPort = h.path("kv_port").asInt(0);
                n.queue = h.path("queue").asInt(0);
                n.freeKvPages = h.path("free_kv_blocks").asInt(0);
                n.batch = h.path("batch").asInt(0);
                String role = h.path("role").asText("");
                if (!role.equals(n.kind.name().toLowerCase(java.util.Locale.ROOT))) {
                    down(n, "it reports role '" + role + "'");
                    return;
                }
            } catch (Exception e) {
                down(n, "unreadable /health: " + e.getMessage());
                return;
            }
            if (!n.healthy) {
                LOG.log(System.Logger.Level.INFO, "router: " + n.name() + " is up (kv port " + n.kvPort + ")");
            }
            n.healthy = true;
            Peer p = n.peer;
            if (n.kvPort > 0 && (p == null || (p.ready.isDone() && !p.open()))) {
                connect.accept(n);
            }
        });
    }

    private void down(ClusterNode n, String why) {
        if (n.healthy) {
            LOG.log(System.Logger.Level.WARNING, "router: " + n.name() + " is down (" + why + ")");
        }
        n.healthy = false;
        Peer p = n.peer;
        if (p != null) {
            p.close();
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        for (ClusterNode n : nodes) {
            Peer p = n.peer;
            if (p != null) {
                p.close();
            }
        }
    }
}
