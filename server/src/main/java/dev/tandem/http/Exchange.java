package dev.tandem.http;

/**
 * One request–response, for the request log and metrics: method, path, route, start time, tokens.
 * Ends once: {@link #end} logs one line "METHOD /path STATUS prompt=N completion=N 0.123s".
 */
final class Exchange {
    final String method;
    final String path;
    final String route; // a fixed name (a known path or "other"): bounded metric tags
    final boolean keepAlive;
    final long start = System.nanoTime();
    int promptTokens;
    int completionTokens;
    private boolean ended;

    Exchange(ServerState state, io.netty.handler.codec.http.HttpRequest req) {
        this.method = req.method().name();
        this.path = new io.netty.handler.codec.http.QueryStringDecoder(req.uri()).path();
        this.route = Route.tag(path);
        this.keepAlive = io.netty.handler.codec.http.HttpUtil.isKeepAlive(req);
        state.metrics.requestStarted();
    }

    void end(ServerState state, int status, String note) {
        if (ended) {
            return;
        }
        ended = true;
        long nanos = System.nanoTime() - start;
        state.metrics.requestEnded(route, status, nanos);
        state.log.accept(String.format("%s %s %d prompt=%d completion=%d %.3fs%s", method, path, status, promptTokens,
                completionTokens, nanos / 1e9, note == null ? "" : " (" + note + ")"));
    }
}
