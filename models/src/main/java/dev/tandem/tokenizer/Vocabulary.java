package dev.tandem.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * A loaded vocabulary, shared by every tokenizer model: each token's bytes, score and attribute bits,
 * the special ids, the add-BOS/EOS/space-prefix flags, the end-of-generation set, the special tokens
 * to split text on (longest first), the bytes each token renders to, and the byte-fallback tokens.
 * Immutable once built by {@link VocabularyLoader}; safe to share between threads.
 */
final class Vocabulary {
    final String file;             // for messages
    final byte[][] texts;          // [n] token text as stored (UTF-8), "▁" for a space in SentencePiece
    final String[] strings;        // [n] the same as Java strings
    final float[] scores;          // [n] merge priority (SentencePiece: higher merges first)
    final int[] attrs;             // [n] TokenAttr bits
    final TokenTable table;        // text → id
    final byte[][] pieces;         // [n] bytes a token renders to when special tokens are shown
    final boolean[] eog;           // [n] ends generation
    final int[] specialTokens;     // ids of CONTROL / USER_DEFINED / UNKNOWN tokens, longest text first
    final int[] byteTokens;        // [256] id of the <0xNN> token (or the one-byte token), -1 when absent
    final int bos, eos, eot, eom, unk, pad; // -1 when absent
    final boolean addBos, addEos, addSpacePrefix;

    Vocabulary(String file, byte[][] texts, float[] scores, int[] attrs, TokenTable table, byte[][] pieces,
               boolean[] eog, int[] specialTokens, int[] byteTokens, int bos, int eos, int eot, int eom, int unk, int pad,
               boolean addBos, boolean addEos, boolean addSpacePrefix) {
        this.file = file;
        this.texts = texts;
        this.strings = new String[texts.length];
        for (int i = 0; i < texts.length; i++) {
            strings[i] = new String(texts[i], StandardCharsets.UTF_8);
        }
        this.scores = scores;
        this.attrs = attrs;
        this.table = table;
        this.pieces = pieces;
        this.eog = eog;
        this.specialTokens = specialTokens;
        this.byteTokens = byteTokens;
        this.bos = bos;
        this.eos = eos;
        this.eot = eot;
        this.eom = eom;
        this.unk = unk;
        this.pad = pad;
        this.addBos = addBos;
        this.addEos = addEos;
        this.addSpacePrefix = addSpacePrefix;
    }

    int size() {
        return texts.length;
    }

    boolean has(int id, int attrBits) {
        return (attrs[id] & attrBits) != 0;
    }

    void check(int id) {
        if (id < 0 || id >= texts.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (0.." + (texts.length - 1) + ") of " + file);
        }
    }

    /** The bytes a token contributes to decoded text; CONTROL and UNKNOWN tokens give none unless {@code special}. */
    byte[] piece(int id, boolean special) {
        check(id);
        if (!special && has(id, TokenAttr.CONTROL | TokenAttr.UNKNOWN)) {
            return EMPTY;
        }
        return pieces[id];
    }

    static final byte[] EMPTY = new byte[0];
}
