package dev.tandem.tokenizer;

import java.util.Arrays;

/**
 * Merges one pre-tokenized word, as llama.cpp's {@code llm_tokenizer_bpe_session}: the word (byte-level encoded
 * UTF-8) starts as one symbol per character; the adjacent pair with the lowest merge rank (leftmost on ties) merges,
 * repeatedly, using a heap of candidate pairs and a linked list of symbols, so a word of n characters takes
 * O(n log n). Each final symbol becomes its token, or, when the vocabulary lacks it, the tokens of its single bytes
 * that exist. Not thread-safe: one per encode call.
 */
final class BpeMerger {
    private final Vocabulary v;
    private final BpeMerges merges;
    private int[] id = new int[16], start = new int[16], len = new int[16], prev = new int[16], next = new int[16]; // [symbols]
    private long[] heap = new long[16]; // rank << 32 | left symbol index, a min-heap
    private int heapSize;

    BpeMerger(Vocabulary v, BpeMerges merges) {
        this.v = v;
        this.merges = merges;
    }

    /** Appends the tokens of {@code word[0, n)} to {@code out}. */
    void encode(byte[] word, int n, boolean ignoreMerges, IntList out) {
        if (ignoreMerges) {
            int whole = v.table.find(word, 0, n);
            if (whole >= 0) {
                out.add(whole);
                return;
            }
        }
        int count = 0;
        for (int off = 0; off < n; count++) {
            int l = Math.min(n - off, utf8Length(word[off]));
            if (count == id.length) {
                grow();
            }
            start[count] = off;
            len[count] = l;
            id[count] = merges.id(word, off, l);
            prev[count] = count - 1;
            next[count] = off + l == n ? -1 : count + 1;
            off += l;
        }
        heapSize = 0;
        for (int i = 1; i < count; i++) {
            push(i - 1, i);
        }
        while (heapSize > 0) {
            long top = pop();
            int rank = (int) (top >>> 32), left = (int) top;
            int right = next[left];
            if (len[left] == 0 || right < 0 || merges.rank(id[left], id[right]) != rank) {
                continue; // stale: one side has changed since this pair was queued
            }
            id[left] = merges.merged(id[left], id[right]);
            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            push(prev[left], left);
            push(left, next[left]);
        }
        for (int i = 0; i >= 0 && count > 0; i = next[i]) {
            int tok = v.table.find(word, start[i], len[i]);
            if (tok >= 0) {
                out.add(tok);
                continue;
            }
            for (int j = start[i]; j < start[i] + len[i]; j++) { // as llama.cpp: each byte that is a token by itself
                int b = v.table.find(word, j, 1);
                if (b >= 0) {
                    out.add(b);
                }
            }
        }
    }

    private void push(int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        int rank = merges.rank(id[left], id[right]);
        if (rank < 0) {
            return;
        }
        if (heapSize == heap.length) {
            heap = Arrays.copyOf(heap, heapSize * 2);
        }
        long key = ((long) rank << 32) | left;
        int i = heapSize++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= key) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = key;
    }

    private long pop() {
        long top = heap[0];
        long last = heap[--heapSize];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= heapSize) {
                break;
            }
            if (c + 1 < heapSize && heap[c + 1] < heap[c]) {
                c++;
            }
            if (heap[c] >= last) {
                break;
            }
            heap[i] = heap[c];
            i = c;
        }
        heap[i] = last;
        return top;
    }

    private void grow() {
        int n = id.length * 2;
        id = Arrays.copyOf(id, n);
        start = Arrays.copyOf(start, n);
        len = Arrays.copyOf(len, n);
        prev = Arrays.copyOf(prev, n);
        next = Arrays.copyOf(next, n);
    }

    /** llama.cpp's {@code unicode_len_utf8}: the sequence length a lead byte announces (1 for a stray continuation byte). */
    private static int utf8Length(byte b) {
        int hi = (b & 0xFF) >>> 4;
        return hi < 12 ? 1 : hi < 14 ? 2 : hi == 14 ? 3 : 4;
    }
}
