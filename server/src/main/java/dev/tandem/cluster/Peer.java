package dev.tandem.cluster;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

import java.util.concurrent.CompletableFuture;

/**
 * The client end of a cluster connection: connects, sends {@link Hello}, and completes
 * {@link #ready} with this peer on HELLO_OK, or exceptionally with the node's reason on REFUSED
 * (or when the connection fails first). Frames after the handshake go to {@code handler}.
 */
final class Peer {
    private static final System.Logger LOG = System.getLogger(Peer.class.getName());
    final String address; // host:port of the node's kv port
    final CompletableFuture<Peer> ready = new CompletableFuture<>();
    private volatile Channel channel;

    private Peer(String address) {
        this.address = address;
    }

    static Peer connect(EventLoopGroup group, String host, int port, Hello hello, FrameHandler handler) {
        Peer p = new Peer(host + ":" + port);
        new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2000)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        FrameCodec.install(c.pipeline());
                        c.pipeline().addLast("peer", p.new Inbound(handler));
                    }
                }).connect(host, port).addListener(f -> {
                    if (!f.isSuccess()) {
                        p.ready.completeExceptionally(new IllegalStateException("cannot connect to " + p.address + ": "
                                + f.cause().getMessage()));
                        return;
                    }
                    Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
                    p.channel = ch;
                    ch.writeAndFlush(hello.encode(ch.alloc()));
                });
        return p;
    }

    /** The connection (valid once {@link #ready} completed). */
    Channel channel() {
        return channel;
    }

    boolean open() {
        Channel c = channel;
        return ready.isDone() && !ready.isCompletedExceptionally() && c != null && c.isActive();
    }

    void close() {
        Channel c = channel;
        if (c != null) {
            c.close();
        }
    }

    private final class Inbound extends SimpleChannelInboundHandler<ByteBuf> {
        private final FrameHandler handler;

        Inbound(FrameHandler handler) {
            this.handler = handler;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf b) {
            int type = Frame.readHeader(b);
            if (ready.isDone()) {
                handler.frame(ctx.channel(), type, b);
                return;
            }
            switch (type) {
                case Frame.HELLO_OK -> ready.complete(Peer.this);
                case Frame.REFUSED -> {
                    ready.completeExceptionally(new IllegalStateException("node " + address + " refused the connection: "
                            + Frame.readString(b)));
                    ctx.close();
                }
                default -> {
                    ready.completeExceptionally(new IllegalStateException("node " + address + " answered the handshake with "
                            + Frame.typeName(type)));
                    ctx.close();
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!ready.isDone()) {
                ready.completeExceptionally(new IllegalStateException("node " + address + " closed the connection during the handshake"));
                return;
            }
            if (!ready.isCompletedExceptionally()) {
                handler.closed(ctx.channel());
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.WARNING, "cluster: closing the connection to " + address + ": " + cause.getMessage());
            ctx.close();
        }
    }
}
