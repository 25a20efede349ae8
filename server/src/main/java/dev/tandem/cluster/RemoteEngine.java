package dev.tandem.cluster;

import dev.tandem.engine.Engine;
import dev.tandem.engine.EngineException;
import dev.tandem.engine.FinishReason;
import dev.tandem.engine.GenerationRequest;
import dev.tandem.engine.Logprobs;
import dev.tandem.engine.ModelInfo;
import dev.tandem.engine.RequestHandle;
import dev.tandem.engine.TokenSink;
import dev.tandem.engine.Usage;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;

import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The router's engine ({@code --role router}): the whole HTTP layer runs on it unchanged. A request
 * is registered at a decode node (most free KV pages, then the smallest batch plus what this router
 * placed there), and once admitted there sent to a prefill node (the shortest queue plus what this
 * router placed there) with the decode node's kv address; the decode node streams its tokens back.
 * See {@link RemoteCall} for retries and failures. A decode node's connection that closes fails its
 * registered requests at once (an error event, never a hang); a prefill node's retries its unshipped ones.
 */
public final class RemoteEngine implements Engine {
    private static final System.Logger LOG = System.getLogger(RemoteEngine.class.getName());
    private final ModelInfo info;
    private final Hello hello;
    private final NodeDirectory directory;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final Map<Long, RemoteCall> calls = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong(ThreadLocalRandom.current().nextLong() & 0x7FFF_FFFF_0000_0000L);
    private volatile boolean shuttingDown;

    /**
     * @param info      the served model's name, context, tokenizer and template (the router tokenizes)
     * @param hello     what the router presents to nodes (role router, token, model identity, no KV)
     */
    RemoteEngine(ModelInfo info, Hello hello, java.util.List<String> prefill, java.util.List<String> decode,
                 java.util.List<String> prefillDns, java.util.List<String> decodeDns) {
        this.info = info;
        this.hello = hello;
        this.directory = new NodeDirectory(prefill, decode, prefillDns, decodeDns, this::connect);
        directory.start();
    }

    @Override
    public ModelInfo model() {
        return info;
    }

    /** The nodes and what the router knows of each (for {@code /health}). */
    String describe() {
        StringBuilder s = new StringBuilder();
        for (ClusterNode n : directory.nodes) {
            s.append(s.isEmpty() ? "" : ", ").append(n.name()).append(n.usable() ? " up" : " down");
        }
        return s.toString();
    }

    int usableNodes(ClusterNode.Kind kind) {
        return (int) directory.nodes.stream().filter(n -> n.kind == kind && n.usable()).count();
    }

    int inFlight() {
        return calls.size();
    }

    @Override
    public RequestHandle submit(GenerationRequest request, TokenSink sink) {
        if (shuttingDown) {
            throw new EngineException.Rejected(EngineException.Kind.SHUTTING_DOWN, "the server is shutting down");
        }
        if (request.promptTokens().length > info.contextLength() - 1) {
            throw new EngineException.Rejected(EngineException.Kind.INVALID_REQUEST, "the prompt has "
                    + request.promptTokens().length + " tokens; the context of " + info.contextLength() + " holds at most "
                    + (info.contextLength() - 1) + " prompt tokens and one generated token");
        }
        ClusterNode d = pickDecode();
        if (d == null) {
            throw new EngineException.Rejected(EngineException.Kind.OVERLOADED, "no decode node is available; retry later");
        }
        if (usableNodes(ClusterNode.Kind.PREFILL) == 0) {
            throw new EngineException.Rejected(EngineException.Kind.OVERLOADED, "no prefill node is available; retry later");
        }
        RemoteCall c = new RemoteCall(ids.incrementAndGet(), request, sink, this);
        calls.put(c.id, c);
        c.register(d);
        return c;
    }

    /** Sends REGISTER for {@code c} to decode node {@code d}; a failed write counts as losing {@code d}. */
    void sendRegister(ClusterNode d, RemoteCall c) {
        Peer p = d.peer;
        ByteBuf b = Frame.start(p.channel().alloc(), Frame.REGISTER, 64 + 4 * c.request.promptTokens().length);
        b.writeLong(c.id);
        Wire.writeRequest(b, c.request);
        p.channel().writeAndFlush(b).addListener(f -> {
            if (!f.isSuccess()) {
                c.decodeFailed(d, new EngineException(EngineException.Kind.INTERNAL, d.name() + " could not be reached: "
                        + f.cause().getMessage()), true);
            }
        });
    }

    /** The usable decode node with free KV pages, the smallest batch (plus what this router placed there), then the most free pages, not in {@code tried}, or null. */
    ClusterNode pickDecode(Set<ClusterNode> tried) {
        return directory.nodes.stream().filter(n -> n.kind == ClusterNode.Kind.DECODE && n.usable() && !tried.contains(n))
                .min(Comparator.<ClusterNode>comparingInt(n -> n.freeKvPages > 0 ? 0 : 1)
                        .thenComparingInt(n -> n.batch + n.assigned.get())
                        .thenComparingInt(n -> -n.freeKvPages))
                .orElse(null);
    }

    private ClusterNode pickDecode() {
        return pickDecode(Set.of());
    }

    /** The usable prefill node with the shortest queue (its own plus what this router placed there), not in {@code tried}, or null. */
    ClusterNode pickPrefill(Set<ClusterNode> tried) {
        return directory.nodes.stream().filter(n -> n.kind == ClusterNode.Kind.PREFILL && n.usable() && !tried.contains(n))
                .min(Comparator.comparingInt(n -> n.queue + n.assigned.get())).orElse(null);
    }

    void sendPrefill(ClusterNode p, RemoteCall c) {
        Peer peer = p.peer;
        ClusterNode d = c.decode;
        ByteBuf b = Frame.start(peer.channel().alloc(), Frame.PREFILL, 96 + 4 * c.request.promptTokens().length);
        b.writeLong(c.id);
        Wire.writeRequest(b, c.request);
        Frame.writeString(b, d.host);
        b.writeInt(d.kvPort);
        peer.channel().writeAndFlush(b).addListener(f -> {
            if (!f.isSuccess()) {
                c.prefillFailed(p, new EngineException(EngineException.Kind.INTERNAL, p.name() + " could not be reached"));
            }
        });
    }

    void send(ClusterNode n, int type, long id) {
        Peer p = n.peer;
        if (p != null && p.open()) {
            Replies.idOnly(p.channel(), type, id);
        }
    }

    void ended(RemoteCall c) {
        calls.remove(c.id);
    }

    private void connect(ClusterNode n) {
        Peer p = Peer.connect(group, n.host, n.kvPort, hello, new FromNode(n));
        n.peer = p;
        p.ready.whenComplete((ok, failure) -> {
            if (failure != null) {
                LOG.log(System.Logger.Level.WARNING, "router: " + n.name() + ": " + failure.getMessage());
            }
        });
    }

    /** Frames from one node's connection. */
    private final class FromNode implements FrameHandler {
        private final ClusterNode node;

        FromNode(ClusterNode node) {
            this.node = node;
        }

        @Override
        public void frame(Channel ch, int type, ByteBuf b) {
            RemoteCall c = calls.get(b.readLong());
            if (c == null) {
                return; // ended already (e.g. a token after a failure)
            }
            switch (type) {
                case Frame.REGISTERED -> c.registered(node);
                case Frame.TOKEN -> {
                    int tok = b.readInt();
                    String text = Frame.readString(b);
                    Logprobs lp = Wire.readLogprobs(b);
                    c.token(tok, text, lp);
                }
                case Frame.FINISH -> {
                    FinishReason reason = Wire.reason(b.readUnsignedByte());
                    c.finished(reason, new Usage(b.readInt(), b.readInt()));
                }
                case Frame.SHIPPED -> c.shipped(node);
                case Frame.ERROR -> {
                    EngineException e = new EngineException(Wire.kind(b.readUnsignedByte()), Frame.readString(b));
                    if (node.kind == ClusterNode.Kind.DECODE) {
                        c.decodeFailed(node, e, false);
                    } else {
                        c.prefillFailed(node, e);
                    }
                }
                default -> throw new Frame.ProtocolException("a router does not take " + Frame.typeName(type));
            }
        }

        @Override
        public void closed(Channel ch) {
            LOG.log(System.Logger.Level.WARNING, "router: lost the connection to " + node.name());
            for (RemoteCall c : calls.values()) {
                if (node.kind == ClusterNode.Kind.DECODE) {
                    c.decodeFailed(node, new EngineException(EngineException.Kind.INTERNAL, "the " + node.name() + " was lost mid-request"), true);
                } else if (node.kind == ClusterNode.Kind.PREFILL) {
                    c.prefillFailed(node, new EngineException(EngineException.Kind.INTERNAL, "the " + node.name() + " was lost"));
                }
            }
        }
    }

    @Override
    public void shutdown(long graceMillis) throws InterruptedException {
        shuttingDown = true;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
        while (!calls.isEmpty() && System.nanoTime() - deadline < 0) {
            Thread.sleep(20);
        }
        for (RemoteCall c : calls.values()) {
            c.cancel();
        }
        long cancelDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (!calls.isEmpty() && System.nanoTime() - cancelDeadline < 0) {
            Thread.sleep(20);
        }
        for (RemoteCall c : calls.values()) {
            c.fail(new EngineException(EngineException.Kind.SHUTTING_DOWN, "the router is shutting down"));
        }
    }

    @Override
    public void close() {
        try {
            shutdown(0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        directory.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
