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
 * Writes one sequence to a decode node: SEQ_BEGIN, then its KV pages layer by layer (layer 0's
 * pages first, so a receiver could start on early layers), each KV_PAGE checksummed with CRC32C,
 * then SEQ_END. The bytes are copied out of the cache here, on the caller's thread; the writes
 * are queued on the connection and flushed per layer.
 */
final class KvFrames {
    private KvFrames() {}

    /** @param seq null when the first token ended the request (then no pages) @return the future of the SEQ_END write */
    static ChannelFuture send(Channel ch, long id, KvCache kv, Sequence seq, int firstToken, Logprobs lp, long rngState) {
        int length = seq == null ? 0 : seq.length();
        int pages = seq == null ? 0 : (length + kv.pageSize - 1) / kv.pageSize;
        ByteBuf begin = Frame.start(ch.alloc(), Frame.SEQ_BEGIN, 64);
        begin.writeLong(id).writeInt(promptLength(seq, length)).writeInt(firstToken);
        Wire.writeLogprobs(begin, lp);
        begin.writeLong(rngState).writeInt(pages);
        ch.write(begin);
        CRC32C crc = new CRC32C();
        for (int l = 0; l < (seq == null ? 0 : kv.layers); l++) {
            for (int p = 0; p < pages; p++) {
                int rows = Math.min(kv.pageSize, length - p * kv.pageSize);
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
            }
            ch.flush();
        }
        ByteBuf end = Frame.start(ch.alloc(), Frame.SEQ_END, 8);
        end.writeLong(id);
        return ch.writeAndFlush(end);
    }

    /** The prompt length the decode node checks: the sequence's, or (no pages shipped) unknown here — sent as -1 and taken as the registered one. */
    private static int promptLength(Sequence seq, int length) {
        return seq == null ? -1 : length;
    }
}
