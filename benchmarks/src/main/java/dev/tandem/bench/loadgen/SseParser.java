package dev.tandem.bench.loadgen;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Incremental server-sent-events parser: bytes in (in whatever pieces the network delivers them), one
 * callback per event's {@code data} out. Lines end with LF or CRLF; an event ends at a blank line; several
 * {@code data:} lines of one event are joined with LF; comments ({@code :…}) and other fields are ignored.
 * A line (and so a UTF-8 character) split across buffers is reassembled before it is decoded.
 */
final class SseParser {
    /** Receives each event's data with the {@link System#nanoTime()} of the buffer that completed it. */
    interface Listener {
        void onEvent(String data, long nanos);
    }

    static final int MAX_LINE_BYTES = 16 << 20;

    private final Listener listener;
    private byte[] line = new byte[256]; // the bytes of the line not yet ended
    private int lineLength;
    private boolean lastWasCr; // the previous byte was CR: an LF right after it ends nothing new
    private StringBuilder data; // the data lines of the event being read, or null

    SseParser(Listener listener) {
        this.listener = listener;
    }

    /** Consumes all of {@code buf}. Throws IllegalStateException on a line over {@link #MAX_LINE_BYTES}. */
    void feed(ByteBuffer buf, long nanos) {
        while (buf.hasRemaining()) {
            byte b = buf.get();
            if (b == '\n' && lastWasCr) {
                lastWasCr = false;
                continue;
            }
            lastWasCr = b == '\r';
            if (b == '\n' || b == '\r') {
                endLine(nanos);
            } else {
                if (lineLength == line.length) {
                    if (line.length >= MAX_LINE_BYTES) {
                        throw new IllegalStateException("an event-stream line is longer than " + MAX_LINE_BYTES + " bytes");
                    }
                    line = Arrays.copyOf(line, Math.min(MAX_LINE_BYTES, line.length * 2));
                }
                line[lineLength++] = b;
            }
        }
    }

    /** The stream ended: a last line without its newline, and an event without its blank line, still count. */
    void end(long nanos) {
        if (lineLength > 0) {
            endLine(nanos);
        }
        dispatch(nanos);
    }

    private void endLine(long nanos) {
        if (lineLength == 0) {
            dispatch(nanos);
            return;
        }
        String s = new String(line, 0, lineLength, StandardCharsets.UTF_8);
        lineLength = 0;
        if (s.startsWith(":")) {
            return; // a comment, e.g. a keep-alive
        }
        int colon = s.indexOf(':');
        String field = colon < 0 ? s : s.substring(0, colon);
        if (!field.equals("data")) {
            return; // event:, id:, retry: carry nothing we measure
        }
        String value = colon < 0 ? "" : s.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        if (data == null) {
            data = new StringBuilder(value);
        } else {
            data.append('\n').append(value);
        }
    }

    private void dispatch(long nanos) {
        if (data != null) {
            String d = data.toString();
            data = null;
            listener.onEvent(d, nanos);
        }
    }
}
