package dev.tandem.http;

import dev.tandem.engine.Engine;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.cors.CorsConfig;
import io.netty.handler.codec.http.cors.CorsConfigBuilder;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The OpenAI-compatible HTTP server: binds at once (so {@code /health} answers 503 while the model loads),
 * serves once {@link #ready} hands it the engine. Shutdown: {@link #beginShutdown} (stop accepting, 503s),
 * then the caller drains the engine, then {@link #close}.
 */
public final class HttpServer implements AutoCloseable {
    /** Per-connection bytes Netty queues before a channel turns unwritable (then {@link SseStream} buffers, bounded). */
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);
    private static final int PREP_QUEUE = 4096;

    private final ServerState state;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ChannelGroup channels; // every open connection, to close them at the end
    private final Channel server;

    private HttpServer(ServerState state, EventLoopGroup boss, EventLoopGroup workers, ChannelGroup channels, Channel server) {
        this.channels = channels;
        this.state = state;
        this.boss = boss;
        this.workers = workers;
        this.server = server;
    }

    /**
     * Binds {@code config.host():config.port()}.
     *
     * @param registry the registry shared with the engine ({@code GET /metrics} scrapes it)
     * @param log      receives one line per request
     */
    public static HttpServer start(ServerConfig config, PrometheusMeterRegistry registry, Consumer<String> log)
            throws InterruptedException {
        ExecutorService prep = new ThreadPoolExecutor(config.prepThreads(), config.prepThreads(), 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(PREP_QUEUE), daemonThreads("tandem-http-prep"));
        ServerState state = new ServerState(config, registry, log, prep);
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(config.ioThreads(), NioIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK);
        ChannelGroup channels = new DefaultChannelGroup("tandem-http", GlobalEventExecutor.INSTANCE);
        b.childHandler(new ServerInitializer(state, cors(config), channels));
        try {
            Channel server = b.bind(new InetSocketAddress(config.host(), config.port())).sync().channel();
            return new HttpServer(state, boss, workers, channels, server);
        } catch (RuntimeException | InterruptedException e) {
            boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            prep.shutdownNow();
            throw e;
        }
    }

    private static CorsConfig cors(ServerConfig config) {
        if (config.corsOrigins().isEmpty()) {
            return null;
        }
        CorsConfigBuilder c = config.corsOrigins().contains("*") ? CorsConfigBuilder.forAnyOrigin()
                : CorsConfigBuilder.forOrigins(config.corsOrigins().toArray(String[]::new));
        return c.allowedRequestMethods(HttpMethod.GET, HttpMethod.POST, HttpMethod.OPTIONS)
                .allowedRequestHeaders(HttpHeaderNames.AUTHORIZATION, HttpHeaderNames.CONTENT_TYPE)
                .maxAge(600)
                .build();
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** The model is loaded: start serving generation (until now those routes and /health answered 503). */
    public void ready(Engine engine) {
        state.ready(engine);
    }

    /** Adds {@code details}' fields to every {@code GET /health} answer (a cluster node's role, load and kv port). */
    public void healthDetails(java.util.function.Supplier<java.util.Map<String, Object>> details) {
        state.healthDetails = details;
    }

    /** Stops accepting connections; requests already being answered continue, new ones on open connections get 503. */
    public void beginShutdown() {
        state.beginShutdown();
        server.close().syncUninterruptibly();
    }

    /** Waits up to {@code millis} for every in-flight HTTP request to be answered; true when none is left. */
    public boolean awaitIdle(long millis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (state.metrics.activeRequests() > 0) {
            if (System.nanoTime() > end) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    public HttpMetrics metrics() {
        return state.metrics;
    }

    /** Closes every connection and the event loops. Does not touch the engine (its owner closes it). */
    @Override
    public void close() {
        state.beginShutdown();
        server.close().syncUninterruptibly();
        channels.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        state.prep.shutdownNow();
    }
}
