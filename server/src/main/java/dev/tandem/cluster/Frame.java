package dev.tandem.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;

/**
 * The framing of tandem's cluster protocol (TCP, one frame per message):
 * <pre>
 *   int32 length (of what follows; LengthFieldBasedFrameDecoder strips it)
 *   int32 magic "TKV1" | uint8 version | uint8 type | payload (big-endian fields; strings as int32 length + UTF-8)
 * </pre>
 * Frame types and their payloads:
 * <pre>
 *   HELLO      role, token, model hash, kv type, page size, layers, kv dim      (first frame of every connection, client → node)
 *   HELLO_OK   role                                                              (node → client; anything else closes the connection)
 *   REFUSED    reason                                                            (node → client, then close)
 *   REGISTER   id, request                       router → decode: admit, then wait for the sequence
 *   PREFILL    id, request, decode host, kv port router → prefill: prefill, then ship the sequence there
 *   CANCEL     id                                router → node
 *   REGISTERED id                                decode → router: admitted to the queue (the router now picks a prefill node)
 *   TOKEN      id, token, text, logprobs         decode → router
 *   FINISH     id, reason, prompt tokens, completion tokens
 *   ERROR      id, kind, message                 node → router (the request failed or was refused)
 *   SHIPPED    id                                prefill → router: the sequence is written to the decode node
 *   SEQ_BEGIN  id, prompt length, pages         prefill → decode (when the first chunk is computed)
 *   KV_PAGE    id, layer, page, rows, crc32c, bytes (rows keys, then rows values, kv type elements, little-endian)
 *   SEQ_END    id, first token, logprobs, rng state, complete (false: the first token ended the request)
 *   SEQ_ACK    id / SEQ_NACK id, reason          decode → prefill
 * </pre>
 */
final class Frame {
    private Frame() {}

    static final int MAGIC = 0x544B5631; // "TKV1"
    static final int VERSION = 1;
    /** Largest frame accepted (a KV page of one layer is 2 × 16 rows × kvDim × 4 bytes: 128 KiB at kvDim 1024). */
    static final int MAX_FRAME_BYTES = 32 << 20;

    static final int HELLO = 1, HELLO_OK = 2, REFUSED = 3;
    static final int REGISTER = 10, PREFILL = 11, CANCEL = 12;
    static final int REGISTERED = 19, TOKEN = 20, FINISH = 21, ERROR = 22, SHIPPED = 23;
    static final int SEQ_BEGIN = 30, KV_PAGE = 31, SEQ_END = 32, SEQ_ACK = 33, SEQ_NACK = 34;

    /** A new frame of {@code type}: the header written, the payload to follow. */
    static ByteBuf start(ByteBufAllocator alloc, int type, int payloadHint) {
        ByteBuf b = alloc.buffer(6 + payloadHint);
        b.writeInt(MAGIC).writeByte(VERSION).writeByte(type);
        return b;
    }

    /** Reads and checks the header. @return the frame type @throws ProtocolException on a bad magic or version */
    static int readHeader(ByteBuf b) {
        if (b.readableBytes() < 6) {
            throw new ProtocolException("a frame of " + b.readableBytes() + " bytes is shorter than its header");
        }
        int magic = b.readInt();
        if (magic != MAGIC) {
            throw new ProtocolException(String.format("not a tandem cluster frame (magic 0x%08x, expected 0x%08x \"TKV1\")", magic, MAGIC));
        }
        int version = b.readUnsignedByte();
        if (version != VERSION) {
            throw new ProtocolException("cluster protocol version " + version + " is not supported (this node speaks " + VERSION + ")");
        }
        return b.readUnsignedByte();
    }

    static void writeString(ByteBuf b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.writeInt(bytes.length).writeBytes(bytes);
    }

    static String readString(ByteBuf b) {
        int n = b.readInt();
        if (n < 0 || n > b.readableBytes()) {
            throw new ProtocolException("a string of " + n + " bytes overruns its frame (" + b.readableBytes() + " left)");
        }
        String s = b.toString(b.readerIndex(), n, StandardCharsets.UTF_8);
        b.skipBytes(n);
        return s;
    }

    static void writeInts(ByteBuf b, int[] v) {
        b.writeInt(v.length);
        for (int x : v) {
            b.writeInt(x);
        }
    }

    static int[] readInts(ByteBuf b) {
        int n = b.readInt();
        if (n < 0 || (long) n * 4 > b.readableBytes()) {
            throw new ProtocolException("an array of " + n + " ints overruns its frame (" + b.readableBytes() + " bytes left)");
        }
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = b.readInt();
        }
        return v;
    }

    static String typeName(int type) {
        return switch (type) {
            case HELLO -> "HELLO";
            case HELLO_OK -> "HELLO_OK";
            case REFUSED -> "REFUSED";
            case REGISTER -> "REGISTER";
            case PREFILL -> "PREFILL";
            case CANCEL -> "CANCEL";
            case REGISTERED -> "REGISTERED";
            case TOKEN -> "TOKEN";
            case FINISH -> "FINISH";
            case ERROR -> "ERROR";
            case SHIPPED -> "SHIPPED";
            case SEQ_BEGIN -> "SEQ_BEGIN";
            case KV_PAGE -> "KV_PAGE";
            case SEQ_END -> "SEQ_END";
            case SEQ_ACK -> "SEQ_ACK";
            case SEQ_NACK -> "SEQ_NACK";
            default -> "type " + type;
        };
    }

    /** A frame that breaks the protocol; the connection is closed with its message. */
    static final class ProtocolException extends RuntimeException {
        ProtocolException(String message) {
            super(message);
        }
    }
}
