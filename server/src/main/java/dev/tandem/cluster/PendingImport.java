package dev.tandem.cluster;

import dev.tandem.engine.Logprobs;
import dev.tandem.engine.SequenceImport;
import dev.tandem.model.KvCache;
import dev.tandem.model.Sequence;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * A sequence on its way to this decode node: SEQ_BEGIN, then one KV_PAGE per (layer, page) in
 * any order, each checked (bounds, size, CRC32C), then SEQ_END with the first token. Filled on the connection's event
 * loop; {@link #arrived} (volatile) publishes it to the engine's prefill thread. A transfer from a
 * prefill node that dies midway is discarded ({@link #sourceLost}) and may start again from another.
 */
final class PendingImport implements SequenceImport {
    private final int promptLength;
    private final KvShape shape;
    private Channel source;       // the prefill node's connection sending it
    private int firstToken;
    private Logprobs firstLogprobs;
    private long rngState;
    private int pageCount;        // pages of the prompt (0 once the first token ended the request)
    private byte[][] pages;       // [layers * pageCount] layer-major: keys then values, little-endian
    private int received;
    private volatile boolean arrived;
    private volatile String failure;

    /** The layout a node's KV pages have (its handshake identity). */
    record KvShape(int layers, int kvDim, int pageSize) {}

    PendingImport(int promptLength, KvShape shape) {
        this.promptLength = promptLength;
        this.shape = shape;
    }

    /** SEQ_BEGIN. @return null, or why the frame is refused */
    synchronized String begin(Channel ch, int promptLength, int pageCount) {
        if (arrived) {
            return "the sequence has already arrived";
        }
        if (promptLength != this.promptLength) {
            return "the sequence has " + promptLength + " prompt positions; the registered request has " + this.promptLength;
        }
        int full = (promptLength + shape.pageSize() - 1) / shape.pageSize();
        if (pageCount != full) {
            return pageCount + " pages announced for " + promptLength + " positions in pages of " + shape.pageSize();
        }
        this.source = ch;
        this.pageCount = pageCount;
        this.pages = new byte[shape.layers() * pageCount][];
        this.received = 0;
        return null;
    }

    /** One KV_PAGE's payload after its id. @return null, or why it is refused */
    synchronized String page(Channel ch, ByteBuf b) {
        if (ch != source || pages == null) {
            return "a KV page before SEQ_BEGIN";
        }
        int layer = b.readInt(), page = b.readInt(), rows = b.readInt(), crc = b.readInt();
        if (layer < 0 || layer >= shape.layers() || page < 0 || page >= pageCount) {
            return "KV page " + page + " of layer " + layer + " is outside " + pageCount + " pages × " + shape.layers() + " layers";
        }
        int expectRows = Math.min(shape.pageSize(), promptLength - page * shape.pageSize());
        int bytes = 2 * expectRows * shape.kvDim() * Float.BYTES;
        if (rows != expectRows || b.readableBytes() != bytes) {
            return "KV page " + page + " of layer " + layer + " has " + rows + " rows in " + b.readableBytes()
                    + " bytes; expected " + expectRows + " rows in " + bytes;
        }
        byte[] data = new byte[bytes];
        b.readBytes(data);
        CRC32C c = new CRC32C();
        c.update(data);
        if ((int) c.getValue() != crc) {
            return String.format("KV page %d of layer %d fails its checksum (crc32c %08x, frame says %08x)", page, layer,
                    (int) c.getValue(), crc);
        }
        int slot = layer * pageCount + page;
        if (pages[slot] == null) {
            received++;
        }
        pages[slot] = data;
        return null;
    }

    /**
     * SEQ_END with the first token and the sampler's state. {@code complete} false: the first token
     * ended the request, the pages are not needed (and are dropped).
     *
     * @return null when the sequence is here (now published), else what is missing
     */
    synchronized String end(Channel ch, int firstToken, Logprobs lp, long rngState, boolean complete) {
        if (ch != source || pages == null) {
            return "SEQ_END before SEQ_BEGIN";
        }
        if (complete && received != pages.length) {
            return "SEQ_END after " + received + " of " + pages.length + " KV pages";
        }
        this.firstToken = firstToken;
        this.firstLogprobs = lp;
        this.rngState = rngState;
        if (!complete) {
            pageCount = 0;
            pages = new byte[0][];
        }
        arrived = true;
        return null;
    }

    /** The transfer failed for good: the request fails with {@code why}. */
    void fail(String why) {
        failure = why;
    }

    /** The connection {@code ch} closed: an unfinished transfer from it is dropped (another prefill node may send it again). */
    synchronized void sourceLost(Channel ch) {
        if (ch == source && !arrived) {
            source = null;
            pages = null;
            received = 0;
        }
    }

    @Override
    public boolean arrived() {
        return arrived;
    }

    @Override
    public String failure() {
        return failure;
    }

    @Override
    public int firstToken() {
        return firstToken;
    }

    @Override
    public Logprobs firstLogprobs() {
        return firstLogprobs;
    }

    @Override
    public long rngState() {
        return rngState;
    }

    @Override
    public void writeInto(KvCache kv, Sequence seq) {
        for (int l = 0; l < shape.layers(); l++) {
            for (int p = 0; p < pageCount; p++) {
                int rows = Math.min(shape.pageSize(), promptLength - p * shape.pageSize());
                kv.importPage(seq, p, l, rows, ByteBuffer.wrap(pages[l * pageCount + p]).order(ByteOrder.LITTLE_ENDIAN));
            }
        }
        kv.setImportedLength(seq, pageCount == 0 ? 0 : promptLength);
        pages = null;
    }
}
