package dev.tandem.model;

/**
 * One sequence's place in the {@link KvCache}: its page table and how many positions have been
 * computed. Mutable, owned by whoever schedules the sequence.
 */
public final class Sequence {
    final int[] pages;   // [maxPositions / pageSize] page ids, the first pageCount in use
    int pageCount;
    int length;          // positions whose K/V are in the cache

    public Sequence(int maxPositions, int pageSize) {
        this.pages = new int[(maxPositions + pageSize - 1) / pageSize];
    }

    /** Positions computed so far: the position of the next token. */
    public int length() {
        return length;
    }

    public int maxPositions(int pageSize) {
        return pages.length * pageSize;
    }

    public int pageCount() {
        return pageCount;
    }
}
