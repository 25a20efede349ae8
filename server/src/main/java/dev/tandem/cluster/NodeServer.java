package dev.tandem.cluster;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;

import java.net.InetSocketAddress;

/**
 * A prefill or decode node's cluster listener ({@code --kv-port}): every connection must open with
 * a {@link Hello} this node accepts ({@link Hello#refusal}), else it gets REFUSED with the reason
 * and is closed; after HELLO_OK its frames go to the role's {@link FrameHandler}.
 */
final class NodeServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NodeServer.class.getName());
    private final EventLoopGroup group;
    private final Channel server;

    private NodeServer(EventLoopGroup group, Channel server) {
        this.group = group;
        this.server = server;
    }

    /** Binds {@code host:port} (0: a free port) and serves {@code handler} to clients {@code identity} accepts. */
    static NodeServer start(String host, int port, Hello identity, FrameHandler handler) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try {
            Channel ch = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            FrameCodec.install(c.pipeline());
                            c.pipeline().addLast("node", new Connection(identity, handler));
                        }
                    }).bind(host, port).sync().channel();
            return new NodeServer(group, ch);
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One accepted connection: the handshake, then frames to the handler. */
    private static final class Connection extends SimpleChannelInboundHandler<ByteBuf> {
        private final Hello identity;
        private final FrameHandler handler;
        private boolean greeted;

        Connection(Hello identity, FrameHandler handler) {
            this.identity = identity;
            this.handler = handler;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf b) {
            int type = Frame.readHeader(b);
            if (greeted) {
                handler.frame(ctx.channel(), type, b);
                return;
            }
            if (type != Frame.HELLO) {
                refuse(ctx, "the first frame must be HELLO, not " + Frame.typeName(type));
                return;
            }
            Hello theirs = Hello.decode(b);
            String why = Hello.refusal(identity, theirs);
            if (why != null) {
                LOG.log(System.Logger.Level.WARNING, "cluster: refused a " + theirs.role() + " from " + ctx.channel().remoteAddress() + ": " + why);
                refuse(ctx, why);
                return;
            }
            greeted = true;
            ByteBuf ok = Frame.start(ctx.alloc(), Frame.HELLO_OK, 16);
            Frame.writeString(ok, identity.role());
            ctx.writeAndFlush(ok);
        }

        private static void refuse(ChannelHandlerContext ctx, String why) {
            ByteBuf r = Frame.start(ctx.alloc(), Frame.REFUSED, 64);
            Frame.writeString(r, why);
            ctx.writeAndFlush(r).addListener(f -> ctx.close());
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (greeted) {
                handler.closed(ctx.channel());
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.WARNING, "cluster: closing the connection from " + ctx.channel().remoteAddress()
                    + ": " + cause.getMessage());
            ctx.close();
        }
    }
}
