package dev.tandem.cluster;

/**
 * One node the router knows: its HTTP address (health checks) and, once its {@code /health} has
 * answered, its kv port, load and cluster connection. Load fields are the last health answer's.
 */
final class ClusterNode {
    enum Kind { PREFILL, DECODE }

    final Kind kind;
    final String host;
    final int httpPort;
    volatile boolean healthy;
    volatile int kvPort;
    volatile int queue;         // requests waiting for admission there
    volatile int freeKvPages;
    volatile int batch;         // sequences in its last decode step
    volatile Peer peer;         // the open cluster connection, or null
    final java.util.concurrent.atomic.AtomicInteger assigned = new java.util.concurrent.atomic.AtomicInteger(); // this router's calls on it now
    volatile boolean removed;   // dropped from DNS
    boolean fromDns;            // discovered through a DNS name (else listed)

    ClusterNode(Kind kind, String host, int httpPort) {
        this.kind = kind;
        this.host = host;
        this.httpPort = httpPort;
    }

    /** Whether requests may be placed here: healthy and connected. */
    boolean usable() {
        Peer p = peer;
        return healthy && !removed && p != null && p.open();
    }

    String name() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + " node " + host + ":" + httpPort;
    }

    @Override
    public String toString() {
        return name();
    }
}
