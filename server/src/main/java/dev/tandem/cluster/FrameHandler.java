package dev.tandem.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

/** What one side of the cluster protocol does with the frames of its connections (after the handshake). */
interface FrameHandler {
    /** On the connection's event loop; {@code payload} is positioned after the header and released by the caller. */
    void frame(Channel ch, int type, ByteBuf payload);

    /** The connection closed (either side, or it failed). */
    void closed(Channel ch);
}
