package dev.tandem.model;

import java.lang.foreign.MemorySegment;

/**
 * Paged key/value storage for all sequences: per layer, {@code pages × pageSize} rows of
 * {@code kvDim} elements for keys and as many for values, stored as F32 or F16 ({@link Type};
 * {@code --kv-type}). F16 halves the memory per position; a row is rounded to F16 once, when it is
 * written, and every read widens it exactly, so a position's K/V are the same however it was batched. A sequence owns a list of page ids
 * ({@link Sequence}); position {@code t} lives in row {@code pages[t / pageSize] * pageSize + t % pageSize}.
 * Pages are handed out from a free stack; running out is a return value, not an exception.
 *
 * <p>Threads: page allocation ({@link #reserve}, {@link #release}, {@link #freePages})
 * is synchronized, so a prefill thread and a decode thread may both hold sequences of one cache;
 * those calls belong to admission, migration and a request's end, never inside a forward step.
 * K/V rows are written and read without locks: each sequence's pages belong to one thread at a time,
 * and handing a sequence to another thread must publish it (e.g. through a concurrent queue).
 */
public final class KvCache {
    public final int layers;
    public final int kvDim;
    public final int pageSize;
    public final int pages;
    public final Type type;
    final float[][] keys;       // F32: [layers][pages * pageSize * kvDim], else null
    final float[][] values;     // F32: [layers][pages * pageSize * kvDim], else null
    final short[][] keysHalf;   // F16: [layers][pages * pageSize * kvDim] binary16 bits, else null
    final short[][] valuesHalf; // F16: [layers][pages * pageSize * kvDim] binary16 bits, else null
    final MemorySegment[] keySegments, valueSegments; // F32: the arrays as heap segments (native attention reads them), else null
    private final int[] free; // stack of free page ids
    private final int[] refs; // [pages] page tables holding each page, and the prefix index (0: free)
    private int freeCount;
    private final PrefixIndex prefixes;

    /** The element type of the stored rows ({@code --kv-type f32|f16}). */
    public enum Type {
        F32(4),
        F16(2);

        public final int bytes;

        Type(int bytes) {
            this.bytes = bytes;
        }

        /** The type a command-line word names ({@code f32}, {@code f16}), case-insensitive. */
        public static Type parse(String s) {
            for (Type t : values()) {
                if (t.name().equalsIgnoreCase(s.trim())) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unknown KV type \"" + s + "\"; expected f32 or f16");
        }
    }

    public KvCache(ModelConfig c, int pageSize, int pages) {
        this(c, pageSize, pages, Type.F32);
    }

    public KvCache(ModelConfig c, int pageSize, int pages, Type type) {
        long elements = (long) pages * pageSize * c.kvDim();
        if (pageSize <= 0 || pages <= 0 || elements > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV cache of " + pages + " pages × " + pageSize + " positions × " + c.kvDim()
                    + " elements per layer is out of range");
        }
        this.layers = c.layers();
        this.kvDim = c.kvDim();
        this.pageSize = pageSize;
        this.pages = pages;
        this.type = type;
        boolean half = type == Type.F16;
        this.keys = half ? null : new float[layers][(int) elements];
        this.values = half ? null : new float[layers][(int) elements];
        this.keysHalf = half ? new short[layers][(int) elements] : null;
        this.valuesHalf = half ? new short[layers][(int) elements] : null;
        this.keySegments = half ? null : new MemorySegment[layers];
        this.valueSegments = half ? null : new MemorySegment[layers];
        for (int l = 0; !half && l < layers; l++) {
            keySegments[l] = MemorySegment.ofArray(keys[l]);
            valueSegments[l] = MemorySegment.ofArray(values[l]);
        }
        this.free = new int[pages];
        this.refs = new int[pages];
        for (int i = 0; i < pages; i++) {
            free[i] = pages - 1 - i;
        }
        this.freeCount = pages;
        this.prefixes = new PrefixIndex(pageSize, refs);
    }

    /** An F32 cache holding {@code positions} positions in pages of {@code pageSize}. */
    public static KvCache forPositions(ModelConfig c, int positions, int pageSize) {
        return forPositions(c, positions, pageSize, Type.F32);
    }

    /** A cache holding {@code positions} positions in pages of {@code pageSize}. */
    public static KvCache forPositions(ModelConfig c, int positions, int pageSize, Type type) {
        return new KvCache(c, pageSize, (positions + pageSize - 1) / pageSize, type);
    }

    /** Bytes one position takes: keys and values of every layer. */
    public static long bytesPerPosition(ModelConfig c, Type type) {
        return 2L * c.layers() * c.kvDim() * type.bytes;
    }

    /** Pages a reservation can have: free ones and those only the prefix index holds (evicted on demand). */
    public synchronized int freePages() {
        return freeCount + prefixes.idle();
    }

    /** Pages the prefix index names (in use or idle). */
    public synchronized int prefixPages() {
        return prefixes.size();
    }

    /** Bytes of storage, keys and values of all layers. */
    public long bytes() {
        return 2L * layers * pages * pageSize * kvDim * type.bytes;
    }

    /**
     * Stores one position's K and V rows ({@code kvDim} floats each) for {@code layer} at element
     * offset {@code row} ({@link #rowOffset}), rounding to nearest even for F16.
     */
    void writeRow(int layer, int row, float[] k, int kOff, float[] v, int vOff) {
        if (keys != null) {
            System.arraycopy(k, kOff, keys[layer], row, kvDim);
            System.arraycopy(v, vOff, values[layer], row, kvDim);
            return;
        }
        short[] kh = keysHalf[layer], vh = valuesHalf[layer];
        for (int i = 0; i < kvDim; i++) {
            kh[row + i] = Float.floatToFloat16(k[kOff + i]);
            vh[row + i] = Float.floatToFloat16(v[vOff + i]);
        }
    }

    /** Copies {@code n} elements of every layer's keys and values from offset {@code src} here to {@code dst} in {@code target}. */
    private void copyElements(int src, KvCache target, int dst, int n) {
        for (int l = 0; l < layers; l++) {
            if (keys != null) {
                System.arraycopy(keys[l], src, target.keys[l], dst, n);
                System.arraycopy(values[l], src, target.values[l], dst, n);
            } else {
                System.arraycopy(keysHalf[l], src, target.keysHalf[l], dst, n);
                System.arraycopy(valuesHalf[l], src, target.valuesHalf[l], dst, n);
            }
        }
    }

    /**
     * Grows {@code seq} so it can hold {@code positions} positions.
     * @return false, changing nothing, when too few pages are free
     */
    public synchronized boolean reserve(Sequence seq, int positions) {
        int needed = (positions + pageSize - 1) / pageSize - seq.pageCount;
        if (needed <= 0) {
            return true;
        }
        if (needed > freeCount + prefixes.idle() || seq.pageCount + needed > seq.pages.length) {
            return false;
        }
        while (freeCount < needed) {
            int page = prefixes.evictOne();
            if (page < 0) {
                return false;
            }
            refs[page] = 0;
            free[freeCount++] = page;
        }
        for (int i = 0; i < needed; i++) {
            int page = free[--freeCount];
            refs[page] = 1;
            seq.pages[seq.pageCount++] = page;
        }
        return true;
    }

    /**
     * Drops {@code seq}'s hold on its pages and empties it; a page no other sequence shares returns
     * to the pool.
     */
    public synchronized void release(Sequence seq) {
        for (int i = 0; i < seq.pageCount; i++) {
            int page = seq.pages[i];
            if (--refs[page] == 0) {
                free[freeCount++] = page;
            } else {
                prefixes.dropped(page, refs[page]);
            }
        }
        seq.pageCount = 0;
        seq.length = 0;
    }

    /**
     * Makes the empty {@code to} share {@code from}'s first {@code pageCount} pages (reference-counted):
     * a prompt prefix computed once, read by several sequences. Shared pages must never be written
     * again — the positions after them go to pages of {@code to}'s own ({@link #reserve}), and a
     * prefix that ends inside a page has that page copied instead ({@link #copyPositions}): copy on write,
     * done once at the fork. {@code to.length()} stays 0 until its positions are filled.
     */
    public synchronized void share(Sequence from, Sequence to, int pageCount) {
        if (to.pageCount != 0 || pageCount > from.pageCount || pageCount > to.pages.length) {
            throw new IllegalArgumentException("cannot share " + pageCount + " of " + from.pageCount + " pages into a table of "
                    + to.pageCount + " / " + to.pages.length);
        }
        for (int i = 0; i < pageCount; i++) {
            int page = from.pages[i];
            prefixes.taken(page, refs[page]++);
            to.pages[i] = page;
        }
        to.pageCount = pageCount;
    }

    /**
     * Prefix caching, first half: gives the empty {@code seq} the indexed pages that hold the
     * longest prefix of {@code tokens} in whole pages, at most {@code maxPages} of them, and sets its
     * length to the positions they hold — positions it need not compute. The pages are shared and
     * must never be written (as with {@link #share}).
     *
     * @return positions attached (a multiple of the page size, 0 when nothing matched)
     */
    public synchronized int attachPrefix(Sequence seq, int[] tokens, int maxPages) {
        if (seq.pageCount != 0) {
            throw new IllegalArgumentException("attachPrefix needs an empty sequence, not one of " + seq.pageCount + " pages");
        }
        int[] found = prefixes.lookup(tokens, Math.min(maxPages, seq.pages.length));
        for (int i = 0; i < found.length; i++) {
            prefixes.taken(found[i], refs[found[i]]++);
            seq.pages[i] = found[i];
        }
        seq.pageCount = found.length;
        seq.length = found.length * pageSize;
        return seq.length;
    }

    /**
     * Prefix caching, second half: indexes {@code seq}'s first {@code fullPages} pages, which hold
     * the K/V of {@code tokens[0 .. fullPages·pageSize)} and will not be written again, so later
     * sequences starting with those tokens can attach them. The index keeps them (one reference)
     * after {@code seq} is released, until a reservation needs the room.
     */
    public synchronized void publishPrefix(Sequence seq, int[] tokens, int fullPages) {
        if (fullPages * pageSize > Math.min(seq.length, tokens.length) || fullPages > seq.pageCount) {
            throw new IllegalArgumentException("cannot index " + fullPages + " pages of a sequence of " + seq.length
                    + " positions and " + tokens.length + " tokens");
        }
        for (int page : prefixes.insert(tokens, seq.pages, fullPages)) {
            refs[page]++;
        }
    }

    /** Sequences holding {@code page} (0 when free). */
    public synchronized int refs(int page) {
        return refs[page];
    }

    /**
     * Copies positions {@code [start, end)} of {@code from} into the same positions of {@code to}
     * (same cache, all layers), then sets {@code to}'s length to {@code end}; positions before
     * {@code start} must already be {@code to}'s (e.g. shared pages). Where both tables name the same
     * page there is nothing to copy.
     */
    public void copyPositions(Sequence from, Sequence to, int start, int end) {
        if (end > from.length || end > to.pageCount * pageSize || start < 0 || start > end) {
            throw new IllegalArgumentException("cannot copy positions [" + start + ", " + end + ") of a sequence of "
                    + from.length + " into room for " + to.pageCount * pageSize);
        }
        for (int t = start; t < end; t++) {
            int src = rowOffset(from, t), dst = rowOffset(to, t);
            if (src != dst) {
                copyElements(src, this, dst, kvDim);
            }
        }
        to.length = end;
    }

    /**
     * Copies the K/V of {@code from}'s first {@code from.length()} positions (all layers) into
     * {@code to}'s pages in {@code target}, and sets {@code to}'s length to match: what moving a
     * sequence into memory another worker owns costs. {@code to} must have room reserved in
     * {@code target}; both caches must have the same shape.
     *
     * @return bytes copied (keys and values)
     */
    public long copyTo(Sequence from, KvCache target, Sequence to) {
        return copyTo(from, target, to, 0, from.length);
    }

    /**
     * Copies positions {@code [start, end)} of {@code from} into the same positions of {@code to} in
     * {@code target} (all layers), a page's run of rows at a time, and sets {@code to}'s length to
     * {@code end}; positions before {@code start} must already be {@code to}'s (e.g. pages it shares).
     *
     * @return bytes copied (keys and values)
     */
    public long copyTo(Sequence from, KvCache target, Sequence to, int start, int end) {
        if (target.layers != layers || target.kvDim != kvDim || target.pageSize != pageSize || target.type != type) {
            throw new IllegalArgumentException("KV caches differ in shape: " + layers + "x" + kvDim + "/" + pageSize + " " + type
                    + " vs " + target.layers + "x" + target.kvDim + "/" + target.pageSize + " " + target.type);
        }
        if (end > from.length || start < 0 || start > end) {
            throw new IllegalArgumentException("cannot copy positions [" + start + ", " + end + ") of a sequence of " + from.length);
        }
        if (end > to.pageCount * pageSize) {
            throw new IllegalStateException("target sequence has room for " + to.pageCount * pageSize
                    + " positions, needs " + end);
        }
        long elements = 0;
        for (int t = start; t < end; ) {
            int rows = Math.min(pageSize - t % pageSize, end - t);
            int n = rows * kvDim;
            copyElements(rowOffset(from, t), target, target.rowOffset(to, t), n);
            elements += 2L * layers * n;
            t += rows;
        }
        to.length = end;
        return elements * type.bytes;
    }

    /** The element type of the stored rows, as named in the cluster handshake. */
    public String kvType() {
        return type.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Bytes {@link #exportPage} writes for {@code rows} positions of one layer: keys, then values. */
    public int pageBytes(int rows) {
        return 2 * rows * kvDim * type.bytes;
    }

    /**
     * Writes the first {@code rows} positions of page {@code pageIndex} (of {@code seq}'s table) in
     * {@code layer}: {@code rows × kvDim} keys, then as many values, as {@code out}'s byte order
     * says. The inverse of {@link #importPage}. @return bytes written
     */
    public int exportPage(Sequence seq, int pageIndex, int layer, int rows, java.nio.ByteBuffer out) {
        int at = checkPage(seq, pageIndex, rows);
        int n = rows * kvDim;
        if (keys != null) {
            out.asFloatBuffer().put(keys[layer], at, n).put(values[layer], at, n);
        } else {
            out.asShortBuffer().put(keysHalf[layer], at, n).put(valuesHalf[layer], at, n);
        }
        out.position(out.position() + 2 * n * type.bytes);
        return 2 * n * type.bytes;
    }

    /** Reads what {@link #exportPage} wrote into page {@code pageIndex} of {@code seq} (reserved, owned by the caller). */
    public void importPage(Sequence seq, int pageIndex, int layer, int rows, java.nio.ByteBuffer in) {
        int at = checkPage(seq, pageIndex, rows);
        int n = rows * kvDim;
        if (keys != null) {
            in.asFloatBuffer().get(keys[layer], at, n).get(values[layer], at, n);
        } else {
            in.asShortBuffer().get(keysHalf[layer], at, n).get(valuesHalf[layer], at, n);
        }
        in.position(in.position() + 2 * n * type.bytes);
    }

    /**
     * Sets the length of {@code seq}, whose positions were filled by {@link #importPage}. Its pages
     * must hold that many positions.
     */
    public void setImportedLength(Sequence seq, int length) {
        if (length < 0 || length > seq.pageCount * pageSize) {
            throw new IllegalArgumentException("an imported length of " + length + " does not fit " + seq.pageCount
                    + " pages of " + pageSize);
        }
        seq.length = length;
    }

    private int checkPage(Sequence seq, int pageIndex, int rows) {
        if (pageIndex < 0 || pageIndex >= seq.pageCount || rows < 0 || rows > pageSize) {
            throw new IllegalArgumentException("page " + pageIndex + " with " + rows + " rows is outside a table of "
                    + seq.pageCount + " pages of " + pageSize);
        }
        return seq.pages[pageIndex] * pageSize * kvDim;
    }

    /** Element offset of position {@code t}'s row for {@code seq}. */
    int rowOffset(Sequence seq, int t) {
        return (seq.pages[t / pageSize] * pageSize + t % pageSize) * kvDim;
    }
}
