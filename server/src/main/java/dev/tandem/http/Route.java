package dev.tandem.http;

import io.netty.handler.codec.http.HttpMethod;

/** The server's endpoints: path, the one method each accepts, and whether it needs an API key. */
enum Route {
    HEALTH("/health", HttpMethod.GET, false),
    METRICS("/metrics", HttpMethod.GET, true),
    MODELS("/v1/models", HttpMethod.GET, true),
    MODEL("/v1/models/", HttpMethod.GET, true), // prefix: /v1/models/{id}
    ENGINE("/v1/engine", HttpMethod.GET, true),
    COMPLETIONS("/v1/completions", HttpMethod.POST, true),
    CHAT("/v1/chat/completions", HttpMethod.POST, true),
    TOKENIZE("/tokenize", HttpMethod.POST, true),
    DETOKENIZE("/detokenize", HttpMethod.POST, true);

    final String path;
    final HttpMethod method;
    final boolean needsKey;

    Route(String path, HttpMethod method, boolean needsKey) {
        this.path = path;
        this.method = method;
        this.needsKey = needsKey;
    }

    /** The route of {@code path} (no query string), or null. */
    static Route of(String path) {
        for (Route r : values()) {
            if (r == MODEL ? path.startsWith(r.path) && path.length() > r.path.length() : path.equals(r.path)) {
                return r;
            }
        }
        return null;
    }

    /** The metric tag for a path: the route's name, or "other". */
    static String tag(String path) {
        Route r = of(path);
        return r == null ? "other" : r.name().toLowerCase();
    }
}
