package dev.tandem.cli;

import dev.tandem.cluster.Cluster;
import dev.tandem.cluster.RemoteEngine;
import dev.tandem.engine.ModelInfo;
import dev.tandem.engine.SplitEngine;

import dev.tandem.engine.Engine;
import dev.tandem.engine.EngineConfig;
import dev.tandem.engine.EngineMode;
import dev.tandem.engine.Engines;
import dev.tandem.engine.KvMigration;
import dev.tandem.engine.SplitConfig;
import dev.tandem.http.HttpServer;
import dev.tandem.http.ServerConfig;
import dev.tandem.model.KvCache;
import dev.tandem.model.Model;
import dev.tandem.tokenizer.ChatTemplate;
import dev.tandem.tokenizer.ChatTemplates;
import dev.tandem.tokenizer.Tokenizer;
import dev.tandem.tokenizer.Tokenizers;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code tandem serve}: the OpenAI-compatible HTTP server. It binds first (so {@code /health} answers 503 while
 * the model loads), loads the model, then serves until SIGTERM / Ctrl-C: stop accepting, let running requests
 * finish for {@code --shutdown-grace} seconds, cancel the rest, exit 0.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve a GGUF model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, ...).")
final class ServeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH|demo",
            description = "GGUF model file, or 'demo' for a small random-weight model made on first use.")
    String model;

    @Option(names = "--model-id", paramLabel = "NAME",
            description = "The name clients send as 'model' (default: the file name without .gguf).")
    String modelId;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR",
            description = "Address to bind (default: ${DEFAULT-VALUE}, loopback only; 0.0.0.0 for every interface).")
    String host;

    @Option(names = "--port", defaultValue = "8080", paramLabel = "N", description = "Port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Require 'Authorization: Bearer KEY' (repeatable: any listed key is accepted). /health stays open.")
    List<String> apiKeys = new ArrayList<>();

    @Option(names = "--cors-origin", paramLabel = "ORIGIN",
            description = "Allow browser calls from this origin (repeatable; '*' for any).")
    List<String> corsOrigins = new ArrayList<>();

    @Option(names = "--ctx", paramLabel = "N", description = "Context length per sequence (default: the model's).")
    Integer ctx;

    @Option(names = "--max-queue", defaultValue = "64", paramLabel = "N",
            description = "Requests waiting for admission at most; beyond, 429 (default: ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--max-body-bytes", defaultValue = "" + ServerConfig.DEFAULT_MAX_BODY_BYTES, paramLabel = "N",
            description = "Largest request body; beyond, 413 (default: ${DEFAULT-VALUE}).")
    int maxBodyBytes;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Compute threads (default: all cores).")
    Integer threads;

    @Option(names = "--max-running", defaultValue = "4", paramLabel = "N",
            description = "Sequences decoded together at most (default: ${DEFAULT-VALUE}).")
    int maxRunning;

    @Option(names = "--prefill-chunk", defaultValue = "512", paramLabel = "N",
            description = "Prompt tokens per prefill step at most (default: ${DEFAULT-VALUE}).")
    int prefillChunk;

    @Option(names = "--kv-positions", paramLabel = "N",
            description = "KV cache budget in positions, shared by all sequences (default: --ctx × --max-running).")
    Integer kvPositions;

    @Option(names = "--kv-cache-mb", paramLabel = "MB",
            description = "KV cache budget in MiB instead of positions (pages of " + 16 + " positions × all layers).")
    Long kvCacheMb;

    @Option(names = "--kv-type", defaultValue = "f32", paramLabel = "f32|f16",
            description = "KV cache element type; f16 halves its memory (default: ${DEFAULT-VALUE}).")
    String kvType;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE",
            description = "A built-in chat template (chatml, llama2, llama3, mistral, phi3, zephyr) or a .jinja file instead of the model's.")
    String chatTemplate;

    @Option(names = "--shutdown-grace", defaultValue = "10", paramLabel = "SECONDS",
            description = "On SIGTERM, how long running requests may finish before they are cancelled (default: ${DEFAULT-VALUE}).")
    int shutdownGrace;

    @Option(names = "--stream-buffer-bytes", defaultValue = "" + ServerConfig.DEFAULT_STREAM_BUFFER_BYTES, paramLabel = "N",
            description = "Bytes held per stream for a client that reads slowly; beyond, the request is cancelled (default: ${DEFAULT-VALUE}).")
    int streamBufferBytes;

    @Option(names = "--mode", defaultValue = "split", paramLabel = "split|colocated",
            description = "split: a prefill pool hands KV to a pinned decode worker; colocated: one pool interleaves both (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--prefill-threads", defaultValue = "1", paramLabel = "N", description = "Split mode: prefill pool threads (default: ${DEFAULT-VALUE}).")
    int prefillThreads;

    @Option(names = "--decode-threads", defaultValue = "1", paramLabel = "N", description = "Split mode: decode worker threads (default: ${DEFAULT-VALUE}).")
    int decodeThreads;

    @Option(names = "--decode-cpus", split = ",", paramLabel = "LIST", description = "Split mode: CPUs to pin the decode worker to, e.g. 1 or 2,3 (default: unpinned).")
    List<Integer> decodeCpus = new ArrayList<>();

    @Option(names = "--kv-migration", defaultValue = "handoff", paramLabel = "handoff|copy",
            description = "Split mode: hand the KV pages over (zero copy) or copy them into decode-owned memory (default: ${DEFAULT-VALUE}).")
    String kvMigration;

    @Option(names = "--io-threads", defaultValue = "2", paramLabel = "N", description = "Netty event loops (default: ${DEFAULT-VALUE}).")
    int ioThreads;

    @Option(names = "--role", defaultValue = "all", paramLabel = "all|prefill|decode|router",
            description = "all: one process does everything; prefill / decode: a cluster node (split engine + KV transfer on --kv-port); "
                    + "router: the OpenAI front end placing requests on --prefill / --decode nodes (default: ${DEFAULT-VALUE}).")
    String role;

    @Option(names = "--kv-port", defaultValue = "9090", paramLabel = "N",
            description = "Prefill and decode nodes: the cluster port (KV transfers, router connections); 0 picks a free one, shown in /health (default: ${DEFAULT-VALUE}).")
    int kvPort;

    @Option(names = "--prefill", paramLabel = "HOST:PORT", description = "Router: a prefill node's HTTP address (repeatable).")
    List<String> prefillNodes = new ArrayList<>();

    @Option(names = "--decode", paramLabel = "HOST:PORT", description = "Router: a decode node's HTTP address (repeatable).")
    List<String> decodeNodes = new ArrayList<>();

    @Option(names = "--prefill-dns", paramLabel = "NAME:PORT",
            description = "Router: prefill nodes are every address NAME resolves to, HTTP on PORT (re-resolved every few seconds; repeatable).")
    List<String> prefillDns = new ArrayList<>();

    @Option(names = "--decode-dns", paramLabel = "NAME:PORT",
            description = "Router: decode nodes are every address NAME resolves to, HTTP on PORT (repeatable).")
    List<String> decodeDns = new ArrayList<>();

    @Option(names = "--cluster-token", paramLabel = "TOKEN",
            description = "The shared secret every cluster connection presents (default: env TANDEM_CLUSTER_TOKEN). Required for roles other than all.")
    String clusterToken;

    @Option(names = "--insecure-no-token", description = "Run a cluster role without a token (any client reaching the kv port is accepted).")
    boolean insecureNoToken;

    @Option(names = "--kernels", defaultValue = "f32", paramLabel = "f32|q8", description = KernelsOption.DESCRIPTION)
    String kernels;

    @Spec
    CommandSpec spec;

    private volatile Cluster.Role clusterRole;

    private final CountDownLatch stopped = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        int nThreads = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        check(nThreads >= 1 && nThreads <= 1024, "--threads must be between 1 and 1024, not " + nThreads);
        check(port >= 0 && port <= 65535, "--port must be between 0 and 65535, not " + port);
        check(maxQueue >= 0, "--max-queue must be at least 0, not " + maxQueue);
        check(maxBodyBytes >= 1024, "--max-body-bytes must be at least 1024, not " + maxBodyBytes);
        check(maxRunning >= 1 && maxRunning <= 1024, "--max-running must be between 1 and 1024, not " + maxRunning);
        check(prefillChunk >= 1 && prefillChunk <= 4096, "--prefill-chunk must be between 1 and 4096, not " + prefillChunk);
        check(shutdownGrace >= 0, "--shutdown-grace must be at least 0, not " + shutdownGrace);
        check(streamBufferBytes >= 4096, "--stream-buffer-bytes must be at least 4096, not " + streamBufferBytes);
        check(ioThreads >= 1 && ioThreads <= 64, "--io-threads must be between 1 and 64, not " + ioThreads);
        check(ctx == null || ctx >= 2, "--ctx must be at least 2, not " + ctx);
        check(mode.equals("split") || mode.equals("colocated"), "--mode must be split or colocated, not " + mode);
        check(kvMigration.equals("handoff") || kvMigration.equals("copy"), "--kv-migration must be handoff or copy, not " + kvMigration);
        parseKvType();
        check(kvPositions == null || kvCacheMb == null, "give --kv-positions or --kv-cache-mb, not both");
        check(prefillThreads >= 1 && prefillThreads <= 1024, "--prefill-threads must be between 1 and 1024, not " + prefillThreads);
        check(decodeThreads >= 1 && decodeThreads <= 1024, "--decode-threads must be between 1 and 1024, not " + decodeThreads);
        for (int cpu : decodeCpus) {
            check(cpu >= 0, "--decode-cpus must list CPU numbers (0 and up), not " + cpu);
        }
        check(List.of("all", "prefill", "decode", "router").contains(role), "--role must be all, prefill, decode or router, not " + role);
        check(kvPort >= 0 && kvPort <= 65535, "--kv-port must be between 0 and 65535, not " + kvPort);
        if (clusterToken == null) {
            clusterToken = System.getenv("TANDEM_CLUSTER_TOKEN");
        }
        if (!role.equals("all")) {
            check(clusterToken != null && !clusterToken.isEmpty() || insecureNoToken, "--role " + role
                    + " needs --cluster-token (or env TANDEM_CLUSTER_TOKEN), or --insecure-no-token");
            check(!role.equals("prefill") && !role.equals("decode") || mode.equals("split"), "--role " + role + " needs --mode split");
        }
        if (clusterToken == null) {
            clusterToken = "";
        }
        if (role.equals("router")) {
            check(!prefillNodes.isEmpty() || !prefillDns.isEmpty(), "--role router needs --prefill HOST:PORT or --prefill-dns NAME:PORT");
            check(!decodeNodes.isEmpty() || !decodeDns.isEmpty(), "--role router needs --decode HOST:PORT or --decode-dns NAME:PORT");
            for (String a : concat(prefillNodes, decodeNodes, prefillDns, decodeDns)) {
                int i = a.lastIndexOf(':');
                boolean ok = i > 0;
                try {
                    ok &= Integer.parseInt(a.substring(i + 1)) > 0;
                } catch (RuntimeException e) {
                    ok = false;
                }
                check(ok, "'" + a + "' is not HOST:PORT");
            }
        }
        for (String k : apiKeys) {
            check(!k.isBlank(), "--api-key must not be empty");
        }

        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ServerConfig sc = new ServerConfig(host, port, apiKeys, corsOrigins, maxBodyBytes, streamBufferBytes,
                ServerConfig.DEFAULT_KEEP_ALIVE_MILLIS, ioThreads, 2);
        HttpServer server;
        try {
            server = HttpServer.start(sc, registry, line -> {
                err.println(line);
                err.flush();
            });
        } catch (Exception e) {
            throw new IllegalStateException("cannot listen on " + host + ":" + port + ": " + Errors.oneLine(e), e);
        }
        Running running = new Running(server);
        Thread hook = new Thread(() -> running.stop(shutdownGrace * 1000L, err, true), "tandem-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        err.println("tandem: listening on http://" + host + ":" + server.port() + " (loading " + model + ")");
        err.flush();
        try {
            load(running, registry, nThreads, err);
        } catch (RuntimeException | Error e) {
            Runtime.getRuntime().removeShutdownHook(hook);
            running.stop(0, err, false);
            throw e;
        }
        err.println("tandem: serving '" + running.engine.model().id() + "' (context " + running.engine.model().contextLength()
                + ", chat template " + (running.engine.model().chatTemplate() == null ? "none" : running.engine.model().chatTemplate().name())
                + ") on http://" + host + ":" + server.port() + "/v1");
        err.flush();
        stopped.await(); // until the shutdown hook runs (it ends the process)
        return 0;
    }

    private void load(Running running, PrometheusMeterRegistry registry, int nThreads, PrintWriter err) {
        KernelsOption.apply(kernels, spec, err);
        Path path = ModelPaths.resolve(model, err);
        Model m = Model.load(path);
        running.model = m;
        Tokenizer tok = Tokenizers.fromGguf(m.file());
        ChatTemplate template = ChatTemplates.fromGguf(m.file(), tok, chatTemplate);
        int modelCtx = m.config().contextLength();
        int context = ctx == null ? modelCtx : ctx;
        check(context <= modelCtx, "--ctx " + context + " exceeds the model's context of " + modelCtx);
        KvCache.Type kvElement = parseKvType();
        long perPosition = KvCache.bytesPerPosition(m.config(), kvElement);
        long kv;
        if (kvCacheMb != null) {
            check(kvCacheMb >= 1, "--kv-cache-mb must be at least 1, not " + kvCacheMb);
            long pages = (kvCacheMb << 20) / (perPosition * 16);
            kv = pages * 16;
            check(kv >= context, "--kv-cache-mb " + kvCacheMb + " holds " + kv + " positions at " + perPosition
                    + " bytes each, fewer than the context of " + context + "; raise it or lower --ctx");
        } else {
            kv = kvPositions != null ? kvPositions : (long) context * maxRunning;
        }
        check(kv >= context && kv <= Integer.MAX_VALUE, "--kv-positions must be between --ctx (" + context + ") and "
                + Integer.MAX_VALUE + ", not " + kv);
        err.printf("tandem: KV cache %s, %d positions, %.1f MiB%s%n", kvType.toLowerCase(java.util.Locale.ROOT), kv,
                kv * perPosition / 1048576.0, mode.equals("split") && kvMigration.equalsIgnoreCase("copy") ? " on each side" : "");
        String id = modelId != null ? modelId : ModelPaths.isDemo(model) ? "demo" : stripGguf(path.getFileName().toString());
        EngineConfig ec = new EngineConfig(id, nThreads, maxRunning, prefillChunk, context, (int) kv, maxQueue, kvElement);
        if (ModelPaths.isDemo(model)) {
            err.println("note: the demo model has random weights; its output is random text.");
        }
        EngineMode engineMode = mode.equals("split") ? EngineMode.SPLIT : EngineMode.COLOCATED;
        SplitConfig split = new SplitConfig(prefillThreads, decodeThreads, decodeCpus, KvMigration.Strategy.parse(kvMigration));
        if (role.equals("router")) {
            String hash = Cluster.modelIdentity(m.file());
            RemoteEngine router = Cluster.router(new ModelInfo(id, context, tok, template), hash, clusterToken,
                    prefillNodes, decodeNodes, prefillDns, decodeDns);
            err.println("tandem: router for model " + hash + " over prefill " + concat(prefillNodes, prefillDns) + ", decode "
                    + concat(decodeNodes, decodeDns));
            running.server.healthDetails(() -> Cluster.routerHealth(router));
            running.engine = router;
            running.server.ready(router);
            return;
        }
        Engine engine = Engines.create(engineMode, m, tok, template, ec, split, registry);
        if (role.equals("prefill") || role.equals("decode")) {
            String hash = Cluster.modelIdentity(m.file());
            try {
                clusterRole = role.equals("prefill") ? Cluster.prefill((SplitEngine) engine, hash, clusterToken, host, kvPort)
                        : Cluster.decode((SplitEngine) engine, hash, clusterToken, host, kvPort);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                engine.close();
                throw new IllegalStateException("interrupted while starting the cluster listener");
            } catch (RuntimeException e) {
                engine.close();
                throw new IllegalStateException("cannot listen for the cluster on " + host + ":" + kvPort + ": " + Errors.oneLine(e), e);
            }
            err.println("tandem: cluster " + role + " node, model " + hash + ", kv port " + clusterRole.kvPort());
            Cluster.Role r = clusterRole;
            running.server.healthDetails(r::health);
        } else {
            running.server.healthDetails(() -> java.util.Map.of("role", "all"));
        }
        err.println("tandem: engine " + mode + (engineMode == EngineMode.SPLIT
                ? " (prefill " + prefillThreads + " threads, decode " + decodeThreads + " threads" + (decodeCpus.isEmpty() ? "" : " on CPUs " + decodeCpus)
                + ", migration " + kvMigration + ")" : " (" + nThreads + " threads)"));
        running.engine = engine;
        running.server.ready(engine);
    }

    @SafeVarargs
    private static List<String> concat(List<String>... lists) {
        List<String> all = new ArrayList<>();
        for (List<String> l : lists) {
            all.addAll(l);
        }
        return all;
    }

    private KvCache.Type parseKvType() {
        try {
            return KvCache.Type.parse(kvType);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--kv-type: " + e.getMessage());
        }
    }

    static String stripGguf(String name) {
        return name.toLowerCase().endsWith(".gguf") ? name.substring(0, name.length() - 5) : name;
    }

    private void check(boolean ok, String message) {
        if (!ok) {
            throw new ParameterException(spec.commandLine(), message);
        }
    }

    /** What runs, for the shutdown sequence: server, then engine, then model. */
    private final class Running {
        final HttpServer server;
        volatile Engine engine;
        volatile Model model;

        Running(HttpServer server) {
            this.server = server;
        }

        /** Stop accepting (503s), drain the engine within the grace, flush the last responses, close; then exit 0 if asked. */
        void stop(long graceMillis, PrintWriter err, boolean exit) {
            int status = 1;
            try {
                server.beginShutdown();
                Engine e = engine;
                if (e != null) {
                    err.println("tandem: shutting down; running requests have " + graceMillis / 1000 + " s to finish");
                    err.flush();
                    e.shutdown(graceMillis);
                }
                server.awaitIdle(2_000);
                server.close();
                Cluster.Role cr = clusterRole;
                if (cr != null) {
                    cr.close();
                }
                if (e != null) {
                    e.close();
                }
                if (model != null) {
                    model.close();
                }
                err.println("tandem: stopped");
                err.flush();
                status = 0;
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException | Error e) {
                err.println("tandem: shutdown failed: " + Errors.oneLine(e));
                if (System.getenv("TANDEM_DEBUG") != null) {
                    e.printStackTrace(err);
                }
                err.flush();
            } finally {
                stopped.countDown();
                if (exit) {
                    Runtime.getRuntime().halt(status); // SIGTERM handled in full: exit 0, not 143
                }
            }
        }
    }
}
