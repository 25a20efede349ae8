package dev.tandem.http;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.cors.CorsConfig;
import io.netty.handler.codec.http.cors.CorsHandler;

/**
 * The pipeline of one connection, in order: HTTP/1.1 codec → keep-alive → body aggregation (413 past the
 * limit) → CORS (when origins are configured) → API keys → routing and the API.
 */
final class ServerInitializer extends ChannelInitializer<SocketChannel> {
    private final ServerState state;
    private final CorsConfig cors; // null: no CORS headers
    private final ChannelGroup channels;

    ServerInitializer(ServerState state, CorsConfig cors, ChannelGroup channels) {
        this.state = state;
        this.cors = cors;
        this.channels = channels;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        channels.add(ch);
        ChannelPipeline p = ch.pipeline();
        p.addLast("codec", new HttpServerCodec(8192, 32 * 1024, 64 * 1024));
        p.addLast("keep-alive", new HttpServerKeepAliveHandler());
        p.addLast("aggregator", new BodyLimitAggregator(state));
        if (cors != null) {
            p.addLast("cors", new CorsHandler(cors));
        }
        p.addLast("auth", new AuthHandler(state));
        p.addLast("api", new ApiHandler(state));
    }
}
