package dev.tandem.model;

/**
 * Paged key/value storage for all sequences: per layer, {@code pages × pageSize} rows of
 * {@code kvDim} floats for keys and as many for values. A sequence owns a list of page ids
 * ({@link Sequence}); position {@code t} lives in row {@code pages[t / pageSize] * pageSize + t % pageSize}.
 * Pages are handed out from a free stack; running out is a return value, not an exception.
 * Not thread-safe: one owner schedules allocation.
 */
public final class KvCache {
    public final int layers;
    public final int kvDim;
    public final int pageSize;
    public final int pages;
    final float[][] keys;   // [layers][pages * pageSize * kvDim]
    final float[][] values; // [layers][pages * pageSize * kvDim]
    private final int[] free; // stack of free page ids
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
        for (int i = 0; i < pages; i++) {
            free[i] = pages - 1 - i;
        }
        this.freeCount = pages;
    }

    /** A cache holding {@code positions} positions in pages of {@code pageSize}. */
    public static KvCache forPositions(ModelConfig c, int positions, int pageSize) {
        return new KvCache(c, pageSize, (positions + pageSize - 1) / pageSize);
    }

    public int freePages() {
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
    public boolean reserve(Sequence seq, int positions) {
        int needed = (positions + pageSize - 1) / pageSize - seq.pageCount;
        if (needed <= 0) {
            return true;
        }
        if (needed > freeCount || seq.pageCount + needed > seq.pages.length) {
            return false;
        }
        for (int i = 0; i < needed; i++) {
            seq.pages[seq.pageCount++] = free[--freeCount];
        }
        return true;
    }

    /** Returns all of {@code seq}'s pages to the pool and empties it. */
    public void release(Sequence seq) {
        for (int i = 0; i < seq.pageCount; i++) {
            free[freeCount++] = seq.pages[i];
        }
        seq.pageCount = 0;
        seq.length = 0;
    }

    /** Float offset of position {@code t}'s row for {@code seq}. */
    int rowOffset(Sequence seq, int t) {
        return (seq.pages[t / pageSize] * pageSize + t % pageSize) * kvDim;
    }
}
