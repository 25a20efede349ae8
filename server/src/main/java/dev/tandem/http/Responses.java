package dev.tandem.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;

/** Whole (non-streamed) responses: JSON bodies, OpenAI error objects, plain text; each ends its {@link Exchange}. */
final class Responses {
    private Responses() {}

    static ChannelFuture json(Channel ch, ServerState state, Exchange ex, int status, Object body) {
        return send(ch, state, ex, full(status, Json.bytes(body), "application/json"), null);
    }

    static ChannelFuture text(Channel ch, ServerState state, Exchange ex, int status, String body, String contentType) {
        return send(ch, state, ex, full(status, body.getBytes(StandardCharsets.UTF_8), contentType), null);
    }

    /** The error object with its status; 429 carries Retry-After. */
    static ChannelFuture error(Channel ch, ServerState state, Exchange ex, ApiException e) {
        FullHttpResponse r = full(e.status(), Json.bytes(Json.error(e)), "application/json");
        if (e.status() == 429) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
        }
        return send(ch, state, ex, r, e.getMessage());
    }

    /** The error, then the connection closes (the request could not be parsed: nothing after it can be trusted). */
    static void errorAndClose(Channel ch, ServerState state, Exchange ex, ApiException e) {
        FullHttpResponse r = full(e.status(), Json.bytes(Json.error(e)), "application/json");
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        send(ch, state, ex, r, e.getMessage()).addListener(ChannelFutureListener.CLOSE);
    }

    /** 405 with the Allow header. */
    static ChannelFuture methodNotAllowed(Channel ch, ServerState state, Exchange ex, String allow) {
        ApiException e = new ApiException(405, "invalid_request_error", null, "method_not_allowed",
                ex.method + " is not allowed on " + ex.path + "; use " + allow);
        FullHttpResponse r = full(405, Json.bytes(Json.error(e)), "application/json");
        r.headers().set(HttpHeaderNames.ALLOW, allow);
        return send(ch, state, ex, r, e.getMessage());
    }

    static FullHttpResponse full(int status, byte[] body, String contentType) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        HttpUtil.setContentLength(r, body.length);
        return r;
    }

    static ChannelFuture send(Channel ch, ServerState state, Exchange ex, FullHttpResponse r, String note) {
        if (!ex.keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ex.end(state, r.status().code(), note);
        ChannelFuture f = ch.writeAndFlush(r);
        if (!ex.keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
        return f;
    }
}
