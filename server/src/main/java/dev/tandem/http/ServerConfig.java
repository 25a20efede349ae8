package dev.tandem.http;

import java.util.List;

/**
 * The HTTP front end's settings, built once from the command line.
 *
 * @param host                 address to bind (loopback unless told otherwise)
 * @param port                 0 picks a free port
 * @param apiKeys              accepted bearer keys; empty means no authentication
 * @param corsOrigins          origins allowed to call from a browser ("*" for any); empty means no CORS headers
 * @param maxBodyBytes         request bodies larger than this get 413
 * @param streamBufferBytes    per-stream bytes held while the client reads slower than we write; beyond it the request is cancelled
 * @param keepAliveMillis      SSE comment interval while a stream has nothing to say
 * @param ioThreads            Netty event loops
 * @param prepThreads          threads that parse, render templates and tokenize (off the event loops)
 */
public record ServerConfig(String host, int port, List<String> apiKeys, List<String> corsOrigins, int maxBodyBytes,
                           int streamBufferBytes, long keepAliveMillis, int ioThreads, int prepThreads) {
    public static final int DEFAULT_MAX_BODY_BYTES = 8 << 20;
    public static final int DEFAULT_STREAM_BUFFER_BYTES = 1 << 20;
    public static final long DEFAULT_KEEP_ALIVE_MILLIS = 5_000;

    public ServerConfig {
        apiKeys = List.copyOf(apiKeys);
        corsOrigins = List.copyOf(corsOrigins);
        if (port < 0 || port > 65535 || maxBodyBytes < 1 || streamBufferBytes < 1 || keepAliveMillis < 1 || ioThreads < 1
                || prepThreads < 1) {
            throw new IllegalArgumentException("invalid server configuration: " + this);
        }
    }

    /** Loopback, the given port, no keys, no CORS, default limits, one event loop, one prep thread. */
    public static ServerConfig loopback(int port) {
        return new ServerConfig("127.0.0.1", port, List.of(), List.of(), DEFAULT_MAX_BODY_BYTES, DEFAULT_STREAM_BUFFER_BYTES,
                DEFAULT_KEEP_ALIVE_MILLIS, 1, 1);
    }

    public ServerConfig withApiKeys(List<String> keys) {
        return new ServerConfig(host, port, keys, corsOrigins, maxBodyBytes, streamBufferBytes, keepAliveMillis, ioThreads, prepThreads);
    }

    public ServerConfig withCorsOrigins(List<String> origins) {
        return new ServerConfig(host, port, apiKeys, origins, maxBodyBytes, streamBufferBytes, keepAliveMillis, ioThreads, prepThreads);
    }

    public ServerConfig withLimits(int maxBody, int streamBuffer, long keepAlive) {
        return new ServerConfig(host, port, apiKeys, corsOrigins, maxBody, streamBuffer, keepAlive, ioThreads, prepThreads);
    }

    public ServerConfig withThreads(int io, int prep) {
        return new ServerConfig(host, port, apiKeys, corsOrigins, maxBodyBytes, streamBufferBytes, keepAliveMillis, io, prep);
    }
}
