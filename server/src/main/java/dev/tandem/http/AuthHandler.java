package dev.tandem.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/**
 * Bearer API keys: when keys are configured, every request but {@code GET /health} and CORS preflights
 * needs {@code Authorization: Bearer <key>} naming one of them, else 401. Keys are compared in constant
 * time ({@link MessageDigest#isEqual}), all of them every time.
 */
final class AuthHandler extends ChannelInboundHandlerAdapter {
    private final ServerState state;
    private final List<byte[]> keys;

    AuthHandler(ServerState state) {
        this.state = state;
        this.keys = state.config.apiKeys().stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req) || keys.isEmpty() || req.method().equals(HttpMethod.OPTIONS)) {
            ctx.fireChannelRead(msg);
            return;
        }
        Route route = Route.of(new QueryStringDecoder(req.uri()).path());
        if (route != null && !route.needsKey) {
            ctx.fireChannelRead(msg);
            return;
        }
        String header = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        String problem = null;
        if (header == null) {
            problem = "missing API key: send 'Authorization: Bearer <key>'";
        } else if (!header.regionMatches(true, 0, "Bearer ", 0, 7) || !matches(header.substring(7).trim())) {
            problem = "invalid API key";
        }
        if (problem == null) {
            ctx.fireChannelRead(msg);
            return;
        }
        Exchange ex = new Exchange(state, req);
        req.release();
        Responses.error(ctx.channel(), state, ex, new ApiException(401, "authentication_error", null, "invalid_api_key", problem));
    }

    private boolean matches(String given) {
        byte[] g = given.getBytes(StandardCharsets.UTF_8);
        boolean ok = false;
        for (byte[] k : keys) {
            ok |= MessageDigest.isEqual(k, g);
        }
        return ok;
    }
}
