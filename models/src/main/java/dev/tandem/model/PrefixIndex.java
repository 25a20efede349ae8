package dev.tandem.model;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * Which full KV pages hold which prompt prefixes, so a request whose prompt starts like an earlier
 * one's reuses those pages instead of computing them again (DESIGN.md: identical prompt prefixes
 * share blocks copy-on-write). An entry names one page by its tokens and its parent entry — the
 * page before it — so a page is found only under the exact token prefix that produced it (the
 * K/V of a position depend on every token before it). The index holds one reference to each page it
 * names; a page held by nothing else is <em>idle</em>: counted as free, and evicted (least recently
 * idle first, leaves before their parents) when a reservation needs it. A chain of entries is held
 * from its start by whoever holds any of it (sequences take indexed prefixes whole, from the first
 * page), so every idle page can be evicted once the idle pages below it are.
 *
 * <p>Owned by one {@link KvCache} and called only under its lock.
 */
final class PrefixIndex {
    /** One cached page: {@code tokens} at positions {@code [depth·pageSize, (depth+1)·pageSize)} after {@code parent}'s prefix. */
    private static final class Entry {
        final Key key;
        final Entry parent;
        final int page;
        int children;

        Entry(Key key, Entry parent, int page) {
            this.key = key;
            this.parent = parent;
            this.page = page;
        }
    }

    /** A page's tokens under a parent entry ({@code parent}: the parent's page id, -1 at the start of a prompt). */
    private record Key(int parent, int[] tokens) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.parent == parent && Arrays.equals(k.tokens, tokens);
        }

        @Override
        public int hashCode() {
            return 31 * parent + Arrays.hashCode(tokens);
        }
    }

    private final int pageSize;
    private final int[] refs;                                          // the owning cache's reference counts
    private final Map<Key, Entry> entries = new HashMap<>();
    private final Entry[] byPage;                                      // [pages] the entry naming each page, or null
    private final LinkedHashSet<Entry> evictable = new LinkedHashSet<>(); // idle leaves, oldest first
    private int idle;                                                  // indexed pages nothing but the index holds

    PrefixIndex(int pageSize, int[] refs) {
        this.pageSize = pageSize;
        this.refs = refs;
        this.byPage = new Entry[refs.length];
    }

    /** Indexed pages that only the index holds: free for the taking. */
    int idle() {
        return idle;
    }

    /** Pages the index names. */
    int size() {
        return entries.size();
    }

    /** The entry for page {@code p} of {@code tokens} under {@code parent}, or null. */
    private Entry find(Entry parent, int[] tokens, int p) {
        int[] slice = Arrays.copyOfRange(tokens, p * pageSize, (p + 1) * pageSize);
        return entries.get(new Key(parent == null ? -1 : parent.page, slice));
    }

    /**
     * The pages holding {@code tokens}' longest indexed prefix of at most {@code maxPages} full
     * pages, in order (empty when none). The caller takes a reference to each (see {@link #taken}).
     */
    int[] lookup(int[] tokens, int maxPages) {
        int[] found = new int[Math.min(maxPages, tokens.length / pageSize)];
        Entry e = null;
        int n = 0;
        for (; n < found.length; n++) {
            e = find(e, tokens, n);
            if (e == null) {
                break;
            }
            found[n] = e.page;
        }
        return Arrays.copyOf(found, n);
    }

    /** The reference count of indexed page {@code page} went from {@code before} to {@code before + 1}. */
    void taken(int page, int before) {
        Entry e = byPage[page];
        if (e != null && before == 1) {
            idle--;
            evictable.remove(e);
        }
    }

    /** The reference count of page {@code page} dropped to {@code after} (≥ 1: the index still holds it). */
    void dropped(int page, int after) {
        Entry e = byPage[page];
        if (e != null && after == 1) {
            idle++;
            if (e.children == 0) {
                evictable.add(e);
            }
        }
    }

    /**
     * Names {@code pages[0 .. count)} — a sequence's first full pages, computed from {@code tokens} —
     * in the index, where they are not already. @return the pages newly named (the caller adds a
     * reference to each for the index)
     */
    int[] insert(int[] tokens, int[] pages, int count) {
        int[] added = new int[count];
        int n = 0;
        Entry parent = null;
        for (int p = 0; p < count; p++) {
            Entry e = find(parent, tokens, p);
            if (e == null) {
                if (byPage[pages[p]] != null) { // the page already names another prefix: cannot happen for pages computed from tokens
                    break;
                }
                int[] slice = Arrays.copyOfRange(tokens, p * pageSize, (p + 1) * pageSize);
                e = new Entry(new Key(parent == null ? -1 : parent.page, slice), parent, pages[p]);
                entries.put(e.key, e);
                byPage[e.page] = e;
                if (parent != null) {
                    if (parent.children++ == 0) {
                        evictable.remove(parent);
                    }
                }
                added[n++] = e.page;
            }
            if (e.page != pages[p]) { // the same prefix computed twice: the index keeps the first copy only
                break;
            }
            parent = e;
        }
        return Arrays.copyOf(added, n);
    }

    /**
     * Drops the least recently idle leaf from the index. @return its page (now held by nothing: the
     * caller frees it), or -1 when nothing is evictable
     */
    int evictOne() {
        var it = evictable.iterator();
        if (!it.hasNext()) {
            return -1;
        }
        Entry e = it.next();
        it.remove();
        entries.remove(e.key);
        byPage[e.page] = null;
        idle--;
        Entry parent = e.parent;
        if (parent != null && --parent.children == 0 && refs[parent.page] == 1) {
            evictable.add(parent);
        }
        return e.page;
    }
}
