package dev.tandem.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Per-thread native buffers of the integer path: the kernels' float outputs, rows prepared for a
 * tile, the K-quant tile's vector factors (single and paired). Each grows (doubling) only when a call needs more, so a
 * warm decode step allocates nothing; one matrix product uses each at most once at a time.
 */
final class NativeScratch {
    private static final ThreadLocal<MemorySegment[]> BUFFERS =
            ThreadLocal.withInitial(() -> new MemorySegment[]{MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL,
                    MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL});
    private static final int OUT = 0, PREPARED = 1, FACTORS = 2, PAIR_FACTORS = 3, ATT_Q = 4, ATT_SCORES = 5, ATT_PAGES = 6, ATT_OUT = 7;

    private NativeScratch() {}

    /** At least {@code floats} floats for a kernel's results. */
    static MemorySegment out(int floats) {
        return grow(OUT, 4L * floats);
    }

    /** At least {@code bytes} bytes for prepared rows. */
    static MemorySegment prepared(long bytes) {
        return grow(PREPARED, bytes);
    }

    /** At least {@code bytes} bytes for the K-quant tile's vector factors. */
    static MemorySegment factors(long bytes) {
        return grow(FACTORS, bytes);
    }

    /** At least {@code bytes} bytes for the K-quant wide tile's pair factors. */
    static MemorySegment pairFactors(long bytes) {
        return grow(PAIR_FACTORS, bytes);
    }

    /** Attention's buffers ({@code Attention.attend} on the native kernels): the query head, the scores, the page starts, the result. */
    static MemorySegment attentionQuery(int floats) {
        return grow(ATT_Q, 4L * floats);
    }

    static MemorySegment attentionScores(int floats) {
        return grow(ATT_SCORES, 4L * floats);
    }

    static MemorySegment attentionPages(int ints) {
        return grow(ATT_PAGES, 4L * ints);
    }

    static MemorySegment attentionOut(int floats) {
        return grow(ATT_OUT, 4L * floats);
    }

    private static MemorySegment grow(int which, long bytes) {
        MemorySegment[] held = BUFFERS.get();
        if (held[which].byteSize() < bytes) {
            held[which] = Arena.ofAuto().allocate(Math.max(bytes, 2 * held[which].byteSize()), 64);
        }
        return held[which];
    }
}
