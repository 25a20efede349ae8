package dev.tandem.http;

import dev.tandem.engine.Engine;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;

/**
 * What every handler of one server shares: settings, the engine (null while the model loads), the
 * shutting-down flag, metrics, the request log and the executor that prepares prompts off the event loops.
 */
final class ServerState {
    final ServerConfig config;
    final PrometheusMeterRegistry registry;
    final HttpMetrics metrics;
    final Consumer<String> log;
    final ExecutorService prep;
    private volatile Engine engine;
    private volatile boolean shuttingDown;
    /** Extra {@code /health} fields (a cluster node's role and load), or null. */
    volatile java.util.function.Supplier<java.util.Map<String, Object>> healthDetails;

    ServerState(ServerConfig config, PrometheusMeterRegistry registry, Consumer<String> log, ExecutorService prep) {
        this.config = config;
        this.registry = registry;
        this.metrics = new HttpMetrics(registry);
        this.log = log;
        this.prep = prep;
    }

    Engine engine() {
        return engine;
    }

    void ready(Engine e) {
        engine = e;
    }

    boolean shuttingDown() {
        return shuttingDown;
    }

    void beginShutdown() {
        shuttingDown = true;
    }

    /** The engine, or a 503 while loading or shutting down. */
    Engine engineOr503() {
        if (shuttingDown) {
            throw ApiException.unavailable("the server is shutting down");
        }
        Engine e = engine;
        if (e == null) {
            throw ApiException.unavailable("Loading model");
        }
        return e;
    }
}
