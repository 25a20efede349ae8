package dev.tandem.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.engine.Engine;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;

import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;

/**
 * Routes one connection's requests, one at a time (pipelined requests wait their turn, at most
 * {@link #MAX_BACKLOG}): unknown path 404, wrong method 405, POST bodies must be JSON (415). Quick answers
 * are written here; bodies are parsed, rendered and tokenized on the prep executor, then generation runs as a
 * {@link GenerationCall} back on this event loop.
 */
final class ApiHandler extends ChannelInboundHandlerAdapter {
    static final int MAX_BACKLOG = 8;
    private static final long STARTED = System.currentTimeMillis() / 1000;
    private final ServerState state;
    private final ArrayDeque<FullHttpRequest> backlog = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private boolean busy;
    private GenerationCall current;

    ApiHandler(ServerState state) {
        this.state = state;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (busy || !backlog.isEmpty()) {
            if (backlog.size() >= MAX_BACKLOG) {
                req.release();
                ctx.close();
                return;
            }
            backlog.add(req);
            return;
        }
        handle(req);
    }

    private void handle(FullHttpRequest req) {
        busy = true;
        Exchange ex = new Exchange(state, req);
        try {
            route(req, ex);
        } catch (ApiException e) {
            respondError(ex, e);
        } finally {
            req.release();
        }
    }

    private void route(FullHttpRequest req, Exchange ex) {
        if (req.decoderResult().isFailure()) {
            Responses.errorAndClose(ctx.channel(), state, ex,
                    ApiException.badRequest(null, "malformed HTTP request: " + req.decoderResult().cause().getMessage()));
            return; // the connection closes: no next request
        }
        Route route = Route.of(ex.path);
        if (route == null) {
            throw ApiException.notFound("no route for " + ex.method + " " + ex.path);
        }
        if (req.method().equals(HttpMethod.OPTIONS)) {
            var r = Responses.full(204, new byte[0], "text/plain");
            r.headers().set(HttpHeaderNames.ALLOW, route.method.name() + ", OPTIONS");
            Responses.send(ctx.channel(), state, ex, r, null);
            next();
            return;
        }
        if (!req.method().equals(route.method)) {
            Responses.methodNotAllowed(ctx.channel(), state, ex, route.method.name());
            next();
            return;
        }
        switch (route) {
            case HEALTH -> health(ex);
            case METRICS -> {
                Responses.text(ctx.channel(), state, ex, 200, state.registry.scrape(), "text/plain; version=0.0.4; charset=utf-8");
                next();
            }
            case MODELS -> {
                Responses.json(ctx.channel(), state, ex, 200, SmallEndpoints.models(state.engineOr503().model(), STARTED));
                next();
            }
            case MODEL -> {
                var m = state.engineOr503().model();
                PromptBuilder.checkModel(ex.path.substring(route.path.length()), m);
                Responses.json(ctx.channel(), state, ex, 200, SmallEndpoints.model(m, STARTED));
                next();
            }
            case ENGINE -> {
                Responses.json(ctx.channel(), state, ex, 200, SmallEndpoints.engine(state.engineOr503()));
                next();
            }
            case COMPLETIONS, CHAT, TOKENIZE, DETOKENIZE -> prepare(req, ex, route);
        }
    }

    private void health(Exchange ex) {
        if (state.shuttingDown()) {
            throw ApiException.unavailable("the server is shutting down");
        }
        if (state.engine() == null) {
            throw ApiException.unavailable("Loading model");
        }
        var o = Json.object();
        o.put("status", "ok");
        var details = state.healthDetails;
        if (details != null) {
            for (var e : details.get().entrySet()) {
                o.putPOJO(e.getKey(), e.getValue());
            }
        }
        Responses.json(ctx.channel(), state, ex, 200, o);
        next();
    }

    /** Checks the content type, then parses and prepares the body on the prep executor. */
    private void prepare(FullHttpRequest req, Exchange ex, Route route) {
        String mime = String.valueOf(HttpUtil.getMimeType(req));
        if (!mime.equalsIgnoreCase("application/json")) {
            throw new ApiException(415, "invalid_request_error", null, "unsupported_media_type",
                    "the request body must be JSON: send 'Content-Type: application/json'"
                            + (HttpUtil.getMimeType(req) == null ? "" : ", not '" + mime + "'"));
        }
        Engine engine = state.engineOr503();
        byte[] body = ByteBufUtil.getBytes(req.content());
        try {
            state.prep.execute(() -> {
                Object result;
                try {
                    JsonNode json = OpenAiRequests.parse(body);
                    result = switch (route) {
                        case COMPLETIONS -> PromptBuilder.completion(OpenAiRequests.completion(json), engine.model());
                        case CHAT -> PromptBuilder.chat(OpenAiRequests.chat(json), engine.model());
                        case TOKENIZE -> SmallEndpoints.tokenize(json, engine.model().tokenizer());
                        case DETOKENIZE -> SmallEndpoints.detokenize(json, engine.model().tokenizer());
                        default -> throw new IllegalStateException("not a body route: " + route);
                    };
                } catch (ApiException e) {
                    result = e;
                } catch (RuntimeException e) {
                    result = new ApiException(500, "server_error", null, null, "cannot prepare the request: " + e);
                }
                Object r = result;
                try {
                    ctx.executor().execute(() -> prepared(ex, r, engine));
                } catch (RejectedExecutionException gone) {
                    // the event loop is shutting down with the server
                }
            });
        } catch (RejectedExecutionException e) {
            throw new ApiException(429, "rate_limit_error", null, "rate_limit_exceeded", "too many requests being prepared; retry");
        }
    }

    private void prepared(Exchange ex, Object result, Engine engine) {
        switch (result) {
            case ApiException e -> respondError(ex, e);
            case PreparedCall call -> {
                current = new GenerationCall(ctx.channel(), state, ex, call, engine.model(), this::next);
                current.start(engine);
            }
            default -> {
                Responses.json(ctx.channel(), state, ex, 200, result);
                next();
            }
        }
    }

    private void respondError(Exchange ex, ApiException e) {
        Responses.error(ctx.channel(), state, ex, e);
        next();
    }

    /** The current exchange is answered: take the next waiting request, if any. */
    private void next() {
        current = null;
        FullHttpRequest waiting = backlog.poll();
        if (waiting == null) {
            busy = false;
            return;
        }
        ctx.executor().execute(() -> { // still busy: later requests queue behind this one
            if (ctx.channel().isActive()) {
                handle(waiting);
            } else {
                waiting.release();
            }
        });
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (current != null) {
            current.writabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        for (FullHttpRequest r; (r = backlog.poll()) != null; ) {
            r.release();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // I/O errors (reset by peer): the close listener cancels any running request
    }
}
