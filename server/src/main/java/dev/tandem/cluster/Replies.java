package dev.tandem.cluster;

import dev.tandem.engine.EngineException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

/** Small frames every node sends. */
final class Replies {
    private Replies() {}

    static void error(Channel ch, long id, EngineException.Kind kind, String message) {
        ByteBuf e = Frame.start(ch.alloc(), Frame.ERROR, 64);
        e.writeLong(id).writeByte(kind.ordinal());
        Frame.writeString(e, message == null ? "(no message)" : message);
        ch.writeAndFlush(e);
    }

    static void idOnly(Channel ch, int type, long id) {
        ByteBuf b = Frame.start(ch.alloc(), type, 8);
        b.writeLong(id);
        ch.writeAndFlush(b);
    }
}
