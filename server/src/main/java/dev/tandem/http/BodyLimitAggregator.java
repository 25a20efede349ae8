package dev.tandem.http;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.concurrent.TimeUnit;

/**
 * Aggregates request bodies up to {@link ServerConfig#maxBodyBytes()}; a larger one gets a 413 with an
 * OpenAI error object (not a reset): the rest of the body is read and dropped, then the connection closes
 * (or after 5 s if the client never finishes sending).
 */
final class BodyLimitAggregator extends HttpObjectAggregator {
    private final ServerState state;
    private io.netty.channel.ChannelFuture written; // the 413, once sent: close after it and the rest of the body

    BodyLimitAggregator(ServerState state) {
        super(state.config.maxBodyBytes());
        this.state = state;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        if (!(oversized instanceof HttpRequest req)) {
            ctx.close();
            return;
        }
        Exchange ex = new Exchange(state, req);
        ApiException e = new ApiException(413, "invalid_request_error", null, "request_too_large",
                "the request body is larger than " + state.config.maxBodyBytes() + " bytes (--max-body-bytes)");
        var r = Responses.full(413, Json.bytes(Json.error(e)), "application/json");
        r.headers().set(HttpHeaderNames.CONNECTION, "close");
        ex.end(state, 413, e.getMessage());
        written = ctx.writeAndFlush(r);
        if (oversized instanceof LastHttpContent) {
            written.addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.executor().schedule(() -> ctx.close(), 5, TimeUnit.SECONDS);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        boolean last = msg instanceof LastHttpContent;
        super.channelRead(ctx, msg);
        if (last && written != null) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }
}
