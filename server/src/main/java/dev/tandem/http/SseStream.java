package dev.tandem.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.ArrayDeque;

/**
 * One server-sent-events response ({@code data: …\n\n} events over chunked HTTP) that respects the channel's
 * writability: while the client reads slower than we write, events wait in a queue bounded by
 * {@link ServerConfig#streamBufferBytes()}; past it, {@code onOverflow} runs (the caller cancels the request)
 * instead of the queue growing. Event-loop confined; never blocks.
 */
final class SseStream {
    private final Channel ch;
    private final ServerState state;
    private final boolean keepAlive;
    private final Runnable onOverflow;
    private final ArrayDeque<HttpContent> queue = new ArrayDeque<>();
    private long queued; // bytes in queue
    private boolean ended;
    private boolean overflowed;
    private long lastWrite = System.nanoTime();

    SseStream(Channel ch, ServerState state, boolean keepAlive, Runnable onOverflow) {
        this.ch = ch;
        this.state = state;
        this.keepAlive = keepAlive;
        this.onOverflow = onOverflow;
    }

    /** The 200 response head: text/event-stream, chunked, not cached. */
    void begin() {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream");
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        r.headers().set("X-Accel-Buffering", "no");
        if (!keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        HttpUtil.setTransferEncodingChunked(r, true);
        ch.writeAndFlush(r);
    }

    /** {@code data: <json>\n\n}. */
    void event(String json) {
        send("data: " + json + "\n\n");
    }

    /** {@code data: [DONE]\n\n}, then the end of the response. */
    void done() {
        send("data: [DONE]\n\n");
        if (ended || overflowed) {
            return;
        }
        ended = true;
        push(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /** A comment line when nothing has been written for {@code idleNanos}: keeps proxies and clients from timing out. */
    void keepAliveIfIdle(long idleNanos) {
        if (!ended && System.nanoTime() - lastWrite >= idleNanos) {
            send(": keep-alive\n\n");
        }
    }

    private void send(String s) {
        if (ended || overflowed || !ch.isActive()) {
            return;
        }
        ByteBuf b = ByteBufUtil.writeUtf8(ch.alloc(), s);
        push(new DefaultHttpContent(b));
    }

    private void push(HttpContent c) {
        lastWrite = System.nanoTime();
        if (queue.isEmpty() && ch.isWritable()) {
            write(c);
            return;
        }
        int size = c.content().readableBytes();
        queue.add(c);
        queued += size;
        state.metrics.buffered(size, queued);
        if (queued > state.config.streamBufferBytes()) {
            overflowed = true;
            release();
            state.metrics.overflowed();
            onOverflow.run();
        }
    }

    /** The channel became writable again (or not): send what waits, as far as it stays writable. */
    void drain() {
        while (!queue.isEmpty() && ch.isWritable()) {
            HttpContent c = queue.poll();
            int size = c.content().readableBytes();
            queued -= size;
            state.metrics.buffered(-size, queued);
            write(c);
        }
    }

    private void write(HttpContent c) {
        if (c instanceof LastHttpContent) {
            var f = ch.writeAndFlush(c);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        } else {
            ch.writeAndFlush(c, ch.voidPromise());
        }
    }

    /** Frees what waits (the connection is gone or the stream overflowed). */
    void release() {
        state.metrics.buffered(-queued, 0);
        queued = 0;
        for (HttpContent c; (c = queue.poll()) != null; ) {
            c.release();
        }
    }

    boolean ended() {
        return ended;
    }
}
