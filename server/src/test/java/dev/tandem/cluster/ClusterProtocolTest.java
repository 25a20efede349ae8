package dev.tandem.cluster;

import dev.tandem.model.KvCache;
import dev.tandem.model.Model;
import dev.tandem.model.Sequence;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Framing and handshake of the cluster protocol: refusals name their reason; pages round-trip and are checksummed. */
class ClusterProtocolTest {
    @TempDir
    static Path dir;
    static Model model, other;
    static EventLoopGroup group;

    @BeforeAll
    static void load() throws Exception {
        model = Model.load(ClusterFixture.makeModel(dir, "a.gguf", 7L));
        other = Model.load(ClusterFixture.makeModel(dir, "b.gguf", 8L)); // same shapes, other weights and seed in metadata
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void close() {
        model.close();
        other.close();
        group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
    }

    private static final FrameHandler NOTHING = new FrameHandler() {
        @Override
        public void frame(Channel ch, int type, ByteBuf payload) {}

        @Override
        public void closed(Channel ch) {}
    };

    private static Hello node(String hash) {
        return new Hello("decode", "secret", hash, "f32", 16, 2, 32);
    }

    /** Connects {@code client} to a node presenting {@code server}. @return the refusal, or null when accepted */
    private static String handshake(Hello server, Hello client) throws Exception {
        try (NodeServer s = NodeServer.start("127.0.0.1", 0, server, NOTHING)) {
            Peer p = Peer.connect(group, "127.0.0.1", s.port(), client, NOTHING);
            try {
                p.ready.get(10, TimeUnit.SECONDS);
                return null;
            } catch (ExecutionException e) {
                return e.getCause().getMessage();
            } finally {
                p.close();
            }
        }
    }

    @Test
    void theSameModelAndTokenAreAccepted() throws Exception {
        String hash = Cluster.modelIdentity(model.file());
        assertNull(handshake(node(hash), new Hello("prefill", "secret", hash, "f32", 16, 2, 32)));
        assertNull(handshake(node(hash), new Hello("router", "secret", hash, "", 0, 0, 0)));
    }

    @Test
    void aWrongTokenIsRefused() throws Exception {
        String hash = Cluster.modelIdentity(model.file());
        String why = handshake(node(hash), new Hello("router", "guess", hash, "", 0, 0, 0));
        assertTrue(why != null && why.contains("wrong cluster token") && !why.contains("secret"), String.valueOf(why));
    }

    @Test
    void anotherModelIsRefusedNamingBothHashes() throws Exception {
        String mine = Cluster.modelIdentity(model.file()), theirs = Cluster.modelIdentity(other.file());
        assertNotEquals(mine, theirs);
        String why = handshake(node(mine), new Hello("prefill", "secret", theirs, "f32", 16, 2, 32));
        assertTrue(why != null && why.contains("model mismatch") && why.contains(mine) && why.contains(theirs), String.valueOf(why));
    }

    @Test
    void anotherKvLayoutIsRefused() throws Exception {
        String hash = Cluster.modelIdentity(model.file());
        String why = handshake(node(hash), new Hello("prefill", "secret", hash, "f16", 16, 2, 32));
        assertTrue(why != null && why.contains("KV layout mismatch") && why.contains("f16"), String.valueOf(why));
    }

    @Test
    void aBadMagicIsNamed() {
        ByteBuf b = Unpooled.buffer().writeInt(0x12345678).writeByte(1).writeByte(1);
        var e = assertThrows(Frame.ProtocolException.class, () -> Frame.readHeader(b));
        assertTrue(e.getMessage().contains("0x12345678"), e.getMessage());
    }

    /** The frames a KvStream writes for a whole sequence with seeded K/V. */
    private static List<ByteBuf> shipped(KvCache kv, Sequence s) {
        EmbeddedChannel ch = new EmbeddedChannel();
        new KvStream(ch, 42L, s.length(), 16).sendAll(kv, s, 17, null, 1234L);
        List<ByteBuf> out = new ArrayList<>();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            out.add(b);
        }
        return out;
    }

    private static KvCache filled(Sequence s, int length) {
        KvCache kv = new KvCache(model.config(), 16, 8);
        assertTrue(kv.reserve(s, length));
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(kv.pageBytes(16)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        for (int l = 0; l < kv.layers; l++) {
            for (int p = 0; p * 16 < length; p++) {
                int rows = Math.min(16, length - p * 16);
                bb.clear();
                for (int i = 0; i < 2 * rows * kv.kvDim; i++) {
                    bb.putFloat((float) r.nextDouble(-1, 1));
                }
                bb.flip();
                kv.importPage(s, p, l, rows, bb);
            }
        }
        kv.setImportedLength(s, length);
        return kv;
    }

    /** Feeds the frames to a PendingImport as a decode node would. @return the first refusal, or null */
    private static String receive(PendingImport in, List<ByteBuf> frames, Channel ch) {
        for (ByteBuf b : frames) {
            int type = Frame.readHeader(b);
            long id = b.readLong();
            assertEquals(42L, id);
            String why = switch (type) {
                case Frame.SEQ_BEGIN -> in.begin(ch, b.readInt(), b.readInt());
                case Frame.KV_PAGE -> in.page(ch, b);
                case Frame.SEQ_END -> in.end(ch, b.readInt(), Wire.readLogprobs(b), b.readLong(), b.readBoolean());
                default -> "unexpected " + Frame.typeName(type);
            };
            if (why != null) {
                return why;
            }
        }
        return null;
    }

    @Test
    void aSequenceRoundTripsExactly() {
        int length = 37;
        Sequence src = new Sequence(128, 16);
        KvCache a = filled(src, length);
        List<ByteBuf> frames = shipped(a, src);
        assertEquals(2 + a.layers * 3, frames.size(), "SEQ_BEGIN, 3 pages per layer, SEQ_END");
        PendingImport in = new PendingImport(length, new PendingImport.KvShape(a.layers, a.kvDim, 16));
        assertNull(receive(in, frames, new EmbeddedChannel()));
        assertTrue(in.arrived());
        assertEquals(17, in.firstToken());
        assertEquals(1234L, in.rngState());
        KvCache b = new KvCache(model.config(), 16, 8);
        Sequence dst = new Sequence(128, 16);
        assertTrue(b.reserve(dst, 40)); // pages 7, 6, 5: other ids than the source's
        in.writeInto(b, dst);
        assertEquals(length, dst.length());
        for (int l = 0; l < a.layers; l++) {
            for (int p = 0; p < 3; p++) {
                int rows = Math.min(16, length - p * 16);
                java.nio.ByteBuffer x = java.nio.ByteBuffer.allocate(a.pageBytes(rows)), y = java.nio.ByteBuffer.allocate(a.pageBytes(rows));
                a.exportPage(src, p, l, rows, x);
                b.exportPage(dst, p, l, rows, y);
                assertEquals(x.flip(), y.flip(), "layer " + l + " page " + p);
            }
        }
    }

    @Test
    void pagesGoOutAsTheyBecomeFinalAndEachOnlyOnce() {
        Sequence src = new Sequence(128, 16);
        KvCache a = filled(src, 37);
        EmbeddedChannel ch = new EmbeddedChannel();
        KvStream stream = new KvStream(ch, 42L, 37, 16);
        assertEquals(0, stream.pagesThrough(a, src, 15), "no page is whole after 15 positions");
        assertEquals(2L * a.layers * a.pageBytes(16), stream.pagesThrough(a, src, 33), "pages 0 and 1 of every layer after 33 positions");
        assertEquals((long) a.layers * a.pageBytes(5), stream.pagesThrough(a, src, 37), "the last, partial page once the prompt is whole");
        assertEquals(0, stream.pagesThrough(a, src, 37), "nothing twice");
        List<ByteBuf> frames = new ArrayList<>();
        stream.end(3, null, 9L, true);
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            frames.add(b);
        }
        assertEquals(2 + a.layers * 3, frames.size(), "SEQ_BEGIN, 3 pages per layer, SEQ_END");
        PendingImport in = new PendingImport(37, new PendingImport.KvShape(a.layers, a.kvDim, 16));
        assertNull(receive(in, frames, new EmbeddedChannel()));
        assertTrue(in.arrived());
    }

    @Test
    void aCorruptedPageIsRefusedByItsChecksum() {
        Sequence src = new Sequence(128, 16);
        KvCache a = filled(src, 20);
        List<ByteBuf> frames = shipped(a, src);
        ByteBuf page = frames.get(1);
        int at = page.writerIndex() - 5;
        page.setByte(at, page.getByte(at) ^ 0x01);
        PendingImport in = new PendingImport(20, new PendingImport.KvShape(a.layers, a.kvDim, 16));
        String why = receive(in, frames, new EmbeddedChannel());
        assertTrue(why != null && why.contains("fails its checksum"), String.valueOf(why));
        assertTrue(!in.arrived());
    }

    @Test
    void aMissingPageKeepsTheSequenceFromArriving() {
        Sequence src = new Sequence(128, 16);
        KvCache a = filled(src, 20);
        List<ByteBuf> frames = shipped(a, src);
        frames.remove(2);
        PendingImport in = new PendingImport(20, new PendingImport.KvShape(a.layers, a.kvDim, 16));
        String why = receive(in, frames, new EmbeddedChannel());
        assertTrue(why != null && why.contains("SEQ_END after 3 of 4 KV pages"), String.valueOf(why));
    }
}
