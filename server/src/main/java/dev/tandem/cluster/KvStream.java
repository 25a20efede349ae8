package dev.tandem.cluster;

import dev.tandem.engine.Logprobs;
import dev.tandem.model.KvCache;
import dev.tandem.model.Sequence;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * One sequence on its way to a decode node, written by the prefill thread as its prompt is
 * computed: SEQ_BEGIN, then KV_PAGE frames (layer by layer within each batch of pages, each with
 * its CRC32C), as soon as whole pages are final ({@link #pagesThrough}, after each prefill chunk:
 * the transfer overlaps the rest of the prefill), the last ones with the first token, then SEQ_END
 * with that token and the sampler's state. The bytes are copied out of the cache on the calling
 * thread; the connection's event loop writes them.
 */
final class KvStream {
    private final Channel ch;
    private final long id;
    private final int promptLength;
    private final int pageSize;
    private final CRC32C crc = new CRC32C();
    private boolean begun;
    private int shippedPages;

    KvStream(Channel ch, long id, int promptLength, int pageSize) {
        this.ch = ch;
        this.id = id;
        this.promptLength = promptLength;
        this.pageSize = pageSize;
    }

    /** Pages the whole prompt fills ({@code pageSize} positions each, the last maybe partly). */
    private int pages() {
        return (promptLength + pageSize - 1) / pageSize;
    }

    private void begin() {
        if (begun) {
            return;
        }
        begun = true;
        ByteBuf b = Frame.start(ch.alloc(), Frame.SEQ_BEGIN, 16);
        b.writeLong(id).writeInt(promptLength).writeInt(pages());
        ch.write(b);
    }

    /**
     * Ships the pages of {@code seq} not yet shipped that are final at {@code positions} computed
     * positions: whole pages only, unless the whole prompt is computed.
     *
     * @return KV bytes queued
     */
    long pagesThrough(KvCache kv, Sequence seq, int positions) {
        if (kv.pageSize != pageSize) {
            throw new IllegalArgumentException("a cache with pages of " + kv.pageSize + " on a stream announced with " + pageSize);
        }
        begin();
        int upTo = positions >= promptLength ? pages() : positions / kv.pageSize;
        long sent = 0;
        for (int l = 0; l < kv.layers && upTo > shippedPages; l++) {
            for (int p = shippedPages; p < upTo; p++) {
                int rows = Math.min(kv.pageSize, promptLength - p * kv.pageSize);
                int bytes = kv.pageBytes(rows);
                ByteBuf f = Frame.start(ch.alloc(), Frame.KV_PAGE, 28 + bytes);
                f.writeLong(id).writeInt(l).writeInt(p).writeInt(rows);
                int crcAt = f.writerIndex();
                f.writeInt(0);
                f.ensureWritable(bytes);
                ByteBuffer out = f.nioBuffer(f.writerIndex(), bytes).order(ByteOrder.LITTLE_ENDIAN);
                kv.exportPage(seq, p, l, rows, out);
                out.flip();
                crc.reset();
                crc.update(out);
                f.setInt(crcAt, (int) crc.getValue());
                f.writerIndex(f.writerIndex() + bytes);
                ch.write(f);
                sent += bytes;
            }
            ch.flush();
        }
        shippedPages = Math.max(shippedPages, upTo);
        ch.flush();
        return sent;
    }

    /**
     * Ends the sequence: SEQ_END with the first token. {@code complete} false when the first token
     * ended the request (the decode node then only delivers that token; pages sent are dropped).
     *
     * @return the future of the SEQ_END write
     */
    ChannelFuture end(int firstToken, Logprobs lp, long rngState, boolean complete) {
        begin();
        ByteBuf b = Frame.start(ch.alloc(), Frame.SEQ_END, 48);
        b.writeLong(id).writeInt(firstToken);
        Wire.writeLogprobs(b, lp);
        b.writeLong(rngState).writeBoolean(complete);
        return ch.writeAndFlush(b);
    }

    /** All of {@code seq} (its {@code seq.length()} positions are the whole prompt), then SEQ_END: what a test or probe sends at once. */
    ChannelFuture sendAll(KvCache kv, Sequence seq, int firstToken, Logprobs lp, long rngState) {
        pagesThrough(kv, seq, seq.length());
        return end(firstToken, lp, rngState, true);
    }
}
