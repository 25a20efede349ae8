package dev.tandem.model;

/**
 * Paged key/value storage for all sequences: per layer, {@code pages × pageSize} rows of
 * {@code kvDim} floats for keys and as many for values. A sequence owns a list of page ids
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
    final float[][] keys;   // [layers][pages * pageSize * kvDim]
    final float[][] values; // [layers][pages * pageSize * kvDim]
    private final int[] free; // stack of free page ids
    private final int[] refs; // [pages] page tables holding each page (0: free)
    private int freeCount;

    public KvCache(ModelConfig c, int pageSize, int pages) {
        long floats = (long) pages * pageSize * c.kvDim();
        if (pageSize <= 0 || pages <= 0 || floats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV cache of " + pages + " pages × " + pageSize + " positions × " + c.kvDim()
                    + " floats per layer is out of range");
        }
        this.layers = c.layers();
        this.kvDim = c.kvDim();
        this.pageSize = pageSize;
        this.pages = pages;
        this.keys = new float[layers][(int) floats];
        this.values = new float[layers][(int) floats];
        this.free = new int[pages];
        this.refs = new int[pages];
        for (int i = 0; i < pages; i++) {
            free[i] = pages - 1 - i;
        }
        this.freeCount = pages;
    }

    /** A cache holding {@code positions} positions in pages of {@code pageSize}. */
    public static KvCache forPositions(ModelConfig c, int positions, int pageSize) {
        return new KvCache(c, pageSize, (positions + pageSize - 1) / pageSize);
    }

    public synchronized int freePages() {
        return freeCount;
    }

    /** Bytes of storage, keys and values of all layers. */
    public long bytes() {
        return 2L * layers * pages * pageSize * kvDim * Float.BYTES;
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
        if (needed > freeCount || seq.pageCount + needed > seq.pages.length) {
            return false;
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
            refs[page]++;
            to.pages[i] = page;
        }
        to.pageCount = pageCount;
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
                for (int l = 0; l < layers; l++) {
                    System.arraycopy(keys[l], src, keys[l], dst, kvDim);
                    System.arraycopy(values[l], src, values[l], dst, kvDim);
                }
            }
        }
        to.length = end;
    }

    /**
     * Copies the K/V of {@code from}'s first {@code from.length()} positions (all layers) into
     * {@code to}'s pages in {@code target}, and sets {@code to}'s length to match: what moving a
     * sequence into memory another worker owns costs. {@code to} must have room reserved in
     * {@code target}; both caches must have the same shape. Whole pages are copied (a page's rows
     * are contiguous), the last one only up to the sequence's length.
     *
     * @return bytes copied (keys and values)
     */
    public long copyTo(Sequence from, KvCache target, Sequence to) {
        if (target.layers != layers || target.kvDim != kvDim || target.pageSize != pageSize) {
            throw new IllegalArgumentException("KV caches differ in shape: " + layers + "x" + kvDim + "/" + pageSize
                    + " vs " + target.layers + "x" + target.kvDim + "/" + target.pageSize);
        }
        int length = from.length;
        if (length > to.pageCount * pageSize) {
            throw new IllegalStateException("target sequence has room for " + to.pageCount * pageSize
                    + " positions, needs " + length);
        }
        long floats = 0;
        for (int p = 0; p * pageSize < length; p++) {
            int rows = Math.min(pageSize, length - p * pageSize);
            int src = from.pages[p] * pageSize * kvDim, dst = to.pages[p] * pageSize * kvDim, n = rows * kvDim;
            for (int l = 0; l < layers; l++) {
                System.arraycopy(keys[l], src, target.keys[l], dst, n);
                System.arraycopy(values[l], src, target.values[l], dst, n);
            }
            floats += 2L * layers * n;
        }
        to.length = length;
        return floats * Float.BYTES;
    }

    /** The element type of the stored rows, as named in the cluster handshake. */
    public String kvType() {
        return "f32";
    }

    /** Bytes {@link #exportPage} writes for {@code rows} positions of one layer: keys, then values. */
    public int pageBytes(int rows) {
        return 2 * rows * kvDim * Float.BYTES;
    }

    /**
     * Writes the first {@code rows} positions of page {@code pageIndex} (of {@code seq}'s table) in
     * {@code layer}: {@code rows × kvDim} keys, then as many values, as {@code out}'s byte order
     * says. The inverse of {@link #importPage}. @return bytes written
     */
    public int exportPage(Sequence seq, int pageIndex, int layer, int rows, java.nio.ByteBuffer out) {
        int at = checkPage(seq, pageIndex, rows);
        int n = rows * kvDim;
        out.asFloatBuffer().put(keys[layer], at, n).put(values[layer], at, n);
        out.position(out.position() + 2 * n * Float.BYTES);
        return 2 * n * Float.BYTES;
    }

    /** Reads what {@link #exportPage} wrote into page {@code pageIndex} of {@code seq} (reserved, owned by the caller). */
    public void importPage(Sequence seq, int pageIndex, int layer, int rows, java.nio.ByteBuffer in) {
        int at = checkPage(seq, pageIndex, rows);
        int n = rows * kvDim;
        in.asFloatBuffer().get(keys[layer], at, n).get(values[layer], at, n);
        in.position(in.position() + 2 * n * Float.BYTES);
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

    /** Float offset of position {@code t}'s row for {@code seq}. */
    int rowOffset(Sequence seq, int t) {
        return (seq.pages[t / pageSize] * pageSize + t % pageSize) * kvDim;
    }
}
