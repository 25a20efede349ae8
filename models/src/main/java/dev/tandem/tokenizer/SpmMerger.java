package dev.tandem.tokenizer;

import java.util.PriorityQueue;

/**
 * SentencePiece BPE over one already-escaped piece of text, as llama.cpp's {@code llm_tokenizer_spm_session}:
 * split into UTF-8 characters, then repeatedly merge the adjacent pair whose concatenation is a vocabulary
 * token with the highest score (ties: the leftmost pair), until no pair forms a token. A final symbol that
 * is not a token is emitted as its bytes' {@code <0xNN>} tokens. One instance per call; O(n log n).
 */
final class SpmMerger {
    // Length of a UTF-8 sequence by the high nibble of its first byte (continuation bytes count as 1).
    private static final byte[] UTF8_LEN = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};

    /** A candidate merge of symbols left and right (adjacent when queued); size = their byte length then. */
    private record Bigram(int left, int right, float score, int size) {}

    private final Vocabulary v;
    private final byte[] text;
    private final int[] start; // [symbols] first byte of each symbol in text
    private final int[] len;   // [symbols] byte length; 0 once merged into its left neighbour
    private final int[] prev;  // [symbols] index of the previous live symbol, -1 at the start
    private final int[] next;  // [symbols] index of the next live symbol, -1 at the end
    private final PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> {
        if (a.score != b.score) {
            return a.score > b.score ? -1 : 1; // higher score first
        }
        return Integer.compare(a.left, b.left); // then leftmost
    });

    private SpmMerger(Vocabulary v, byte[] text) {
        this.v = v;
        this.text = text;
        int n = 0;
        for (int off = 0; off < text.length; n++) {
            off += Math.min(UTF8_LEN[(text[off] & 0xff) >>> 4], text.length - off);
        }
        start = new int[n];
        len = new int[n];
        prev = new int[n];
        next = new int[n];
        int off = 0;
        for (int i = 0; i < n; i++) {
            start[i] = off;
            len[i] = Math.min(UTF8_LEN[(text[off] & 0xff) >>> 4], text.length - off);
            off += len[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
    }

    /** Appends the tokens of {@code text} (spaces already escaped to "▁") to {@code out}. */
    static void encode(Vocabulary v, byte[] text, IntList out) {
        if (text.length > 0) {
            new SpmMerger(v, text).run(out);
        }
    }

    private void run(IntList out) {
        for (int i = 1; i < start.length; i++) {
            tryAdd(i - 1, i);
        }
        Bigram b;
        while ((b = queue.poll()) != null) {
            int l = b.left, r = b.right;
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != b.size) {
                continue; // one side was merged since this pair was queued
            }
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            tryAdd(prev[l], l);
            tryAdd(l, next[l]);
        }
        for (int i = 0; i != -1; i = next[i]) {
            int id = v.table.find(text, start[i], len[i]);
            if (id >= 0) {
                out.add(id);
                continue;
            }
            for (int j = start[i]; j < start[i] + len[i]; j++) { // byte fallback
                int bt = v.byteTokens[text[j] & 0xff];
                if (bt < 0) {
                    throw new TokenizerException(String.format(
                            "%s: cannot encode byte 0x%02X: the vocabulary has no <0x%02X> token", v.file, text[j] & 0xff, text[j] & 0xff));
                }
                out.add(bt);
            }
        }
    }

    private void tryAdd(int l, int r) {
        if (l < 0 || r < 0) {
            return;
        }
        int size = len[l] + len[r];
        int id = v.table.find(text, start[l], size);
        if (id >= 0) {
            queue.add(new Bigram(l, r, v.scores[id], size));
        }
    }
}
