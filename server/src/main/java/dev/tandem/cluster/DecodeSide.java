package dev.tandem.cluster;

import dev.tandem.engine.EngineException;
import dev.tandem.engine.FinishReason;
import dev.tandem.engine.Logprobs;
import dev.tandem.engine.RequestHandle;
import dev.tandem.engine.SplitEngine;
import dev.tandem.engine.TokenSink;
import dev.tandem.engine.Usage;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A decode node's side of the protocol. A router REGISTERs a request (admitted to the local split
 * engine as an import: slot and pages reserved, no prefill) and hears REGISTERED or ERROR; a
 * prefill node then ships the sequence (SEQ_BEGIN, KV_PAGEs, SEQ_END → SEQ_ACK or SEQ_NACK); the
 * engine decodes it and its tokens go back to the router as TOKEN frames, then FINISH or ERROR.
 * A router connection that closes cancels its requests.
 */
final class DecodeSide implements FrameHandler {
    private static final System.Logger LOG = System.getLogger(DecodeSide.class.getName());
    private final SplitEngine engine;
    private final PendingImport.KvShape shape;
    private final Map<Long, Registration> registrations = new ConcurrentHashMap<>();

    private static final class Registration {
        final Channel router;
        final PendingImport pending;
        volatile RequestHandle handle;

        Registration(Channel router, PendingImport pending) {
            this.router = router;
            this.pending = pending;
        }
    }

    DecodeSide(SplitEngine engine) {
        this.engine = engine;
        var kv = engine.decodeKv();
        this.shape = new PendingImport.KvShape(kv.layers, kv.kvDim, kv.pageSize);
    }

    /** Requests registered and not yet ended. */
    int registered() {
        return registrations.size();
    }

    @Override
    public void frame(Channel ch, int type, ByteBuf b) {
        switch (type) {
            case Frame.REGISTER -> register(ch, b.readLong(), b);
            case Frame.CANCEL -> {
                Registration r = registrations.get(b.readLong());
                if (r != null && r.handle != null) {
                    r.handle.cancel();
                }
            }
            case Frame.SEQ_BEGIN -> {
                long id = b.readLong();
                Registration r = registrations.get(id);
                if (r == null) {
                    nack(ch, id, "no request " + id + " is registered here (cancelled, or never registered)");
                    return;
                }
                String why = r.pending.begin(ch, b.readInt(), b.readInt());
                if (why != null) {
                    nack(ch, id, why);
                }
            }
            case Frame.KV_PAGE -> {
                long id = b.readLong();
                Registration r = registrations.get(id);
                if (r == null) {
                    return; // NACKed at SEQ_BEGIN (or cancelled since): the rest of its pages are dropped
                }
                String why = r.pending.page(ch, b);
                if (why != null) {
                    r.pending.fail("the KV transfer failed: " + why);
                    engine.importArrived();
                    nack(ch, id, why);
                }
            }
            case Frame.SEQ_END -> {
                long id = b.readLong();
                Registration r = registrations.get(id);
                if (r == null || r.pending.failure() != null) {
                    return;
                }
                int first = b.readInt();
                Logprobs lp = Wire.readLogprobs(b);
                String why = r.pending.end(ch, first, lp, b.readLong(), b.readBoolean());
                if (why != null) {
                    nack(ch, id, why);
                    return;
                }
                engine.importArrived();
                ByteBuf ack = Frame.start(ch.alloc(), Frame.SEQ_ACK, 8);
                ack.writeLong(id);
                ch.writeAndFlush(ack);
            }
            default -> throw new Frame.ProtocolException("a decode node does not take " + Frame.typeName(type));
        }
    }

    private void register(Channel router, long id, ByteBuf b) {
        var request = Wire.readRequest(b);
        Registration reg = new Registration(router, new PendingImport(request.promptTokens().length, shape));
        if (registrations.putIfAbsent(id, reg) != null) {
            Replies.error(router, id, EngineException.Kind.INVALID_REQUEST, "request " + id + " is already registered");
            return;
        }
        try {
            reg.handle = engine.submitImport(request, new ToRouter(router, id), reg.pending);
        } catch (EngineException e) {
            registrations.remove(id);
            Replies.error(router, id, e.kind(), e.getMessage());
            return;
        }
        ByteBuf ok = Frame.start(router.alloc(), Frame.REGISTERED, 8);
        ok.writeLong(id);
        router.writeAndFlush(ok);
    }

    private static void nack(Channel ch, long id, String why) {
        LOG.log(System.Logger.Level.WARNING, "cluster: refused the sequence of request " + id + ": " + why);
        ByteBuf n = Frame.start(ch.alloc(), Frame.SEQ_NACK, 64);
        n.writeLong(id);
        Frame.writeString(n, why);
        ch.writeAndFlush(n);
    }

    @Override
    public void closed(Channel ch) {
        for (Registration r : registrations.values()) {
            if (r.router == ch && r.handle != null) {
                r.handle.cancel();
            }
            r.pending.sourceLost(ch);
        }
    }

    /** A request's output, as frames to the router that registered it. */
    private final class ToRouter implements TokenSink {
        private final Channel router;
        private final long id;

        ToRouter(Channel router, long id) {
            this.router = router;
            this.id = id;
        }

        @Override
        public void onToken(int tokenId, String textPiece, Logprobs logprobs) {
            ByteBuf t = Frame.start(router.alloc(), Frame.TOKEN, 32 + textPiece.length() * 3);
            t.writeLong(id).writeInt(tokenId);
            Frame.writeString(t, textPiece);
            Wire.writeLogprobs(t, logprobs);
            router.writeAndFlush(t);
        }

        @Override
        public void onFinish(FinishReason reason, Usage usage) {
            registrations.remove(id);
            ByteBuf f = Frame.start(router.alloc(), Frame.FINISH, 20);
            f.writeLong(id).writeByte(reason.ordinal()).writeInt(usage.promptTokens()).writeInt(usage.completionTokens());
            router.writeAndFlush(f);
        }

        @Override
        public void onError(EngineException error) {
            registrations.remove(id);
            Replies.error(router, id, error.kind(), error.getMessage());
        }
    }
}
