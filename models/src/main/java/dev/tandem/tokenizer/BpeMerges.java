package dev.tandem.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The merge table of a byte-level BPE vocabulary ({@code tokenizer.ggml.merges}): "left right" strings, the
 * earlier the higher the priority (rank = index). Every string that appears as a side or as a merged pair gets a
 * small id; {@link #rank} and {@link #merged} look a pair of ids up without allocating. As in llama.cpp, a merge
 * line splits at its first space after the first character, and a repeated pair keeps its first rank.
 */
final class BpeMerges {
    private final TokenTable strings; // string bytes → id
    private final long[] keys;        // [capacity] (left id + 1) << 32 | (right id + 1), 0 = empty
    private final int[] ranks;        // [capacity]
    private final int[] mergedIds;    // [capacity] id of left + right
    private final int mask;

    BpeMerges(String[] lines, String file) {
        Map<String, Integer> ids = new HashMap<>();
        List<byte[]> texts = new ArrayList<>();
        int n = lines.length;
        int[] left = new int[n], right = new int[n], merged = new int[n];
        for (int i = 0; i < n; i++) {
            String line = lines[i];
            int sp = line.indexOf(' ', 1);
            String a = sp < 0 ? "" : line.substring(0, sp), b = sp < 0 ? "" : line.substring(sp + 1);
            left[i] = intern(a, ids, texts);
            right[i] = intern(b, ids, texts);
            merged[i] = intern(a + b, ids, texts);
        }
        this.strings = new TokenTable(texts.toArray(new byte[0][]), file);
        int capacity = Integer.highestOneBit(Math.max(4, n) * 2 - 1) << 1;
        this.keys = new long[capacity];
        this.ranks = new int[capacity];
        this.mergedIds = new int[capacity];
        this.mask = capacity - 1;
        for (int i = 0; i < n; i++) {
            long key = key(left[i], right[i]);
            int s = slot(key);
            if (keys[s] == 0) { // else a repeat: the first rank stays
                keys[s] = key;
                ranks[s] = i;
                mergedIds[s] = merged[i];
            }
        }
    }

    private static int intern(String s, Map<String, Integer> ids, List<byte[]> texts) {
        return ids.computeIfAbsent(s, k -> {
            texts.add(k.getBytes(StandardCharsets.UTF_8));
            return texts.size() - 1;
        });
    }

    /** The id of the string {@code buf[off, off + len)}, or -1 when no merge mentions it. */
    int id(byte[] buf, int off, int len) {
        return strings.find(buf, off, len);
    }

    /** The rank of merging {@code left} and {@code right} (ids), or -1. */
    int rank(int left, int right) {
        if (left < 0 || right < 0) {
            return -1;
        }
        int s = slot(key(left, right));
        return keys[s] == 0 ? -1 : ranks[s];
    }

    /** The id of the merged string; only for a pair with a rank. */
    int merged(int left, int right) {
        return mergedIds[slot(key(left, right))];
    }

    private static long key(int left, int right) {
        return ((long) (left + 1) << 32) | (right + 1);
    }

    /** The slot holding {@code key}, or the empty slot where it would go. */
    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        int s = (int) (h >>> 40) & mask;
        while (keys[s] != 0 && keys[s] != key) {
            s = (s + 1) & mask;
        }
        return s;
    }
}
