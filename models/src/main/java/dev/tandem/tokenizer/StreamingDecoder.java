package dev.tandem.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns one sequence's tokens, pushed one at a time, into text pieces that never split a character:
 * a token that ends inside a UTF-8 character (a {@code <0xF0>} byte token of an emoji, say) is held back
 * until the character completes. Not thread-safe: one per sequence.
 *
 * <p>Two flavours, for the two places text is shown:
 * <ul>
 *   <li>{@link #StreamingDecoder(Tokenizer) new StreamingDecoder(t)} — for tokens generated after a prompt, the
 *       way llama-server streams them: every piece as it is, no space stripped (" Paris" after "The capital is"
 *       keeps its space). Concatenated, the pieces equal the UTF-8 reading of all {@link Tokenizer#tokenBytes}.</li>
 *   <li>{@link #likeDecode(Tokenizer)} — applies {@link Tokenizer#decode}'s rule to the first token pushed (drop one
 *       leading space when {@link Tokenizer#stripsLeadingSpace()}), so the pieces concatenate to exactly
 *       {@code decode(ids)}.</li>
 * </ul>
 * Control tokens (BOS, EOS) render as nothing.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private boolean stripNext;
    private byte[] pending = new byte[16]; // bytes not yet returned: at most one incomplete character, then the new piece
    private int size;

    /** For generated tokens that continue a prompt: no space is stripped. */
    public StreamingDecoder(Tokenizer tokenizer) {
        this(tokenizer, false);
    }

    private StreamingDecoder(Tokenizer tokenizer, boolean stripFirst) {
        this.tokenizer = tokenizer;
        this.stripNext = stripFirst;
    }

    /** Pieces that concatenate to {@code tokenizer.decode(ids)}: the first token loses one leading space when decode would drop it. */
    public static StreamingDecoder likeDecode(Tokenizer tokenizer) {
        return new StreamingDecoder(tokenizer, tokenizer.stripsLeadingSpace());
    }

    /** Adds a token; returns the text completed by it (often all of its piece, possibly "" or more than it). */
    public String push(int tokenId) {
        byte[] p = tokenizer.tokenBytes(tokenId);
        int skip = stripNext && p.length > 0 && p[0] == ' ' ? 1 : 0;
        stripNext = false;
        if (size + p.length - skip > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, size + p.length));
        }
        System.arraycopy(p, skip, pending, size, p.length - skip);
        size += p.length - skip;
        int complete = completePrefix(pending, size);
        if (complete == 0) {
            return "";
        }
        String s = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, size - complete);
        size -= complete;
        return s;
    }

    /** Returns whatever is held back, an incomplete character as U+FFFD, and empties the decoder. */
    public String flush() {
        String s = new String(pending, 0, size, StandardCharsets.UTF_8);
        size = 0;
        return s;
    }

    /**
     * How many of the first {@code n} bytes can be decoded now: all of them unless they end with the lead byte of a
     * multi-byte UTF-8 sequence and fewer continuation bytes than it announces. Only such a tail is held back, so
     * reading the pieces one by one gives the same text (U+FFFD included) as reading all bytes at once.
     */
    static int completePrefix(byte[] b, int n) {
        for (int i = n - 1; i >= Math.max(0, n - 4); i--) {
            int c = b[i] & 0xff;
            if ((c & 0xC0) == 0x80) {
                continue; // continuation byte: look further back for its lead
            }
            int need = c >= 0xF0 && c <= 0xF7 ? 4 : c >= 0xE0 ? (c <= 0xEF ? 3 : 1) : c >= 0xC0 ? 2 : 1;
            return n - i < need ? i : n;
        }
        return n;
    }
}
