package dev.tandem.cluster;

import dev.tandem.engine.EngineException;
import dev.tandem.engine.FinishReason;
import dev.tandem.engine.GenerationRequest;
import dev.tandem.engine.Logprobs;
import dev.tandem.engine.RequestHandle;
import dev.tandem.engine.SplitEngine;
import dev.tandem.engine.TokenSink;
import dev.tandem.engine.Usage;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoopGroup;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A prefill node's side of the protocol. A router sends PREFILL (request, and the decode node's
 * kv address); this node connects to that decode node (once per address, with the handshake),
 * admits the request to its split engine, prefills it and samples the first token, then ships
 * the sequence ({@link KvShipper}: whole pages after each prefill chunk, the rest with the first
 * token) and tells the router SHIPPED; the request then ends here. A
 * refusal (queue full, …), a failure, or a NACK from the decode node goes to the router as ERROR,
 * so it can try another prefill node. A router connection that closes cancels its requests.
 */
final class PrefillSide implements FrameHandler {
    private final SplitEngine engine;
    private final EventLoopGroup clients;
    private final Hello hello;  // what this node presents to decode nodes
    private final Map<String, Peer> decodeNodes = new ConcurrentHashMap<>();
    private final Map<Long, Job> jobs = new ConcurrentHashMap<>();

    /** A request of a router, from PREFILL until the decode node acknowledged (or it failed). */
    private static final class Job {
        final Channel router;
        volatile RequestHandle handle;
        volatile Channel decode;   // the decode node's connection it ships over, once known

        Job(Channel router) {
            this.router = router;
        }
    }

    PrefillSide(SplitEngine engine, EventLoopGroup clients, Hello hello) {
        this.engine = engine;
        this.clients = clients;
        this.hello = hello;
    }

    /** Requests prefilling or being shipped. */
    int active() {
        return jobs.size();
    }

    @Override
    public void frame(Channel ch, int type, ByteBuf b) {
        switch (type) {
            case Frame.PREFILL -> {
                long id = b.readLong();
                GenerationRequest request = Wire.readRequest(b);
                String host = Frame.readString(b);
                int port = b.readInt();
                prefill(ch, id, request, host, port);
            }
            case Frame.CANCEL -> {
                Job j = jobs.get(b.readLong());
                if (j != null && j.handle != null) {
                    j.handle.cancel();
                }
            }
            default -> throw new Frame.ProtocolException("a prefill node does not take " + Frame.typeName(type));
        }
    }

    private void prefill(Channel router, long id, GenerationRequest request, String host, int port) {
        Job job = new Job(router);
        if (jobs.putIfAbsent(id, job) != null) {
            Replies.error(router, id, EngineException.Kind.INVALID_REQUEST, "request " + id + " is already here");
            return;
        }
        decodeNode(host, port).ready.whenComplete((peer, failure) -> {
            if (failure != null) {
                jobs.remove(id);
                Replies.error(router, id, EngineException.Kind.INTERNAL, rootMessage(failure));
                return;
            }
            job.decode = peer.channel();
            KvShipper shipper = new KvShipper(new KvStream(peer.channel(), id, request.promptTokens().length, engine.decodeKv().pageSize), router, id);
            try {
                job.handle = engine.submitExport(request, shipper, shipper);
            } catch (EngineException e) {
                jobs.remove(id);
                Replies.error(router, id, e.kind(), e.getMessage());
            }
        });
    }

    private Peer decodeNode(String host, int port) {
        String key = host + ":" + port;
        return decodeNodes.compute(key, (k, p) -> p != null && (!p.ready.isDone() || p.open()) ? p
                : Peer.connect(clients, host, port, hello, new FromDecode()));
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && (t instanceof java.util.concurrent.CompletionException)) {
            t = t.getCause();
        }
        return t.getMessage();
    }

    @Override
    public void closed(Channel ch) {
        for (Job j : jobs.values()) {
            if (j.router == ch && j.handle != null) {
                j.handle.cancel();
            }
        }
    }

    /** Frames from a decode node: the verdict on a shipped sequence. */
    private final class FromDecode implements FrameHandler {
        @Override
        public void frame(Channel ch, int type, ByteBuf b) {
            long id = b.readLong();
            Job j = jobs.remove(id);
            if (type == Frame.SEQ_NACK && j != null) {
                Replies.error(j.router, id, EngineException.Kind.INTERNAL, "the decode node refused the sequence: " + Frame.readString(b));
            }
        }

        @Override
        public void closed(Channel ch) {
            // The router hears of the decode node's loss itself; here its jobs are forgotten, and one
            // still prefilling is cancelled (there is no one to ship it to).
            for (var it = jobs.values().iterator(); it.hasNext(); ) {
                Job j = it.next();
                if (j.decode == ch) {
                    it.remove();
                    if (j.handle != null) {
                        j.handle.cancel();
                    }
                }
            }
        }
    }

    /**
     * The request's sink on this node (it records the first token and reports failures to the
     * router) and its export (it writes the sequence to the decode node, on the prefill thread).
     */
    private final class KvShipper implements TokenSink, dev.tandem.engine.SequenceExport {
        private final KvStream stream;
        private final Channel router;
        private final long id;
        private int firstToken = -1;
        private Logprobs firstLogprobs;
        private boolean shipped;

        KvShipper(KvStream stream, Channel router, long id) {
            this.stream = stream;
            this.router = router;
            this.id = id;
        }

        @Override
        public void onToken(int tokenId, String textPiece, Logprobs logprobs) {
            firstToken = tokenId;
            firstLogprobs = logprobs;
        }

        @Override
        public void export(dev.tandem.model.KvCache kv, dev.tandem.model.Sequence seq, long rngState) {
            if (firstToken < 0) {
                return; // no token: the request failed, and onError tells the router
            }
            ChannelFuture sent;
            try {
                if (seq != null) {
                    stream.pagesThrough(kv, seq, seq.length());
                }
                sent = stream.end(firstToken, firstLogprobs, rngState, seq != null);
            } catch (RuntimeException x) { // the request may have ended here already (its first token): tell the router now
                if (jobs.remove(id) != null) {
                    Replies.error(router, id, EngineException.Kind.INTERNAL, "sending the sequence failed: " + x);
                }
                throw x;
            }
            sent.addListener(f -> {
                if (!f.isSuccess()) {
                    Job j = jobs.remove(id);
                    if (j != null) {
                        Replies.error(router, id, EngineException.Kind.INTERNAL, "lost the connection to the decode node while sending the sequence");
                    }
                }
            });
            shipped = true;
            Replies.idOnly(router, Frame.SHIPPED, id);
        }

        @Override
        public void progress(dev.tandem.model.KvCache kv, dev.tandem.model.Sequence seq) {
            stream.pagesThrough(kv, seq, seq.length());
        }

        @Override
        public void onFinish(FinishReason reason, Usage usage) {
            if (reason == FinishReason.CANCELLED && !shipped) { // STOP / LENGTH at the first token: the export follows
                jobs.remove(id);
                Replies.error(router, id, EngineException.Kind.SHUTTING_DOWN, "the prefill node cancelled the request before its first token");
            }
        }

        @Override
        public void onError(EngineException error) {
            jobs.remove(id);
            Replies.error(router, id, error.kind(), error.getMessage());
        }
    }
}
