package dev.tandem.cluster;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;

/** The pipeline order both ends of a cluster connection use: 4-byte length framing, bounded. */
final class FrameCodec {
    private FrameCodec() {}

    static void install(ChannelPipeline p) {
        p.addLast("frames", new LengthFieldBasedFrameDecoder(Frame.MAX_FRAME_BYTES, 0, 4, 0, 4));
        p.addLast("length", new LengthFieldPrepender(4));
    }
}
