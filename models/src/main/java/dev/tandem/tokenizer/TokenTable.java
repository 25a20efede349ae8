package dev.tandem.tokenizer;

import java.util.Arrays;

/**
 * Exact lookup from a token's UTF-8 bytes to its id, by a slice of a byte array, without allocating:
 * the SentencePiece merge loop looks up every candidate pair this way. Open addressing with linear
 * probing over a power-of-two table at most half full.
 */
final class TokenTable {
    private final byte[][] texts; // [vocab] the bytes of each token
    private final int[] slots;    // [capacity] token id + 1, 0 = empty
    private final int mask;

    /** Throws when two tokens have the same bytes (llama.cpp refuses such a vocabulary too). */
    TokenTable(byte[][] texts, String file) {
        this.texts = texts;
        int capacity = Integer.highestOneBit(Math.max(4, texts.length) * 2 - 1) << 1;
        this.slots = new int[capacity];
        this.mask = capacity - 1;
        for (int id = 0; id < texts.length; id++) {
            byte[] t = texts[id];
            int s = hash(t, 0, t.length) & mask;
            while (slots[s] != 0) {
                if (Arrays.equals(texts[slots[s] - 1], t)) {
                    throw new TokenizerException(file + ": duplicate token in vocabulary: '"
                            + new String(t, java.nio.charset.StandardCharsets.UTF_8) + "' has ids " + (slots[s] - 1) + " and " + id);
                }
                s = (s + 1) & mask;
            }
            slots[s] = id + 1;
        }
    }

    /** The id of the token whose bytes are {@code buf[off, off + len)}, or -1. */
    int find(byte[] buf, int off, int len) {
        int s = hash(buf, off, len) & mask;
        while (true) {
            int v = slots[s];
            if (v == 0) {
                return -1;
            }
            byte[] t = texts[v - 1];
            if (t.length == len && Arrays.equals(t, 0, len, buf, off, off + len)) {
                return v - 1;
            }
            s = (s + 1) & mask;
        }
    }

    int find(byte[] text) {
        return find(text, 0, text.length);
    }

    private static int hash(byte[] b, int off, int len) {
        int h = 0x811c9dc5; // FNV-1a, then a final mix so the low bits spread
        for (int i = off; i < off + len; i++) {
            h = (h ^ (b[i] & 0xff)) * 0x01000193;
        }
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        return h;
    }
}
