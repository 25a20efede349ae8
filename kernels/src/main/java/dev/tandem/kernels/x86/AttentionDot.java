package dev.tandem.kernels.x86;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static dev.tandem.kernels.x86.Asm.*;

/**
 * The two halves of attention over F32 paged keys and values in 512-bit registers (AVX-512): the
 * scores {@code q · k_t} of 16 positions at a time, and the weighted sum {@code Σ_t s_t · v_t}. They
 * do exactly the operations of {@code Attention.attend}'s Java code at 16 float lanes, so that which
 * one ran never changes a result:
 * <ul>
 *   <li>score: vector {@code i} of the head (16 floats) feeds chain {@code i % 4}, each chain a fused
 *       multiply-add from 0 in index order; the chains added as {@code (c0 + c1) + (c2 + c3)}; the 16 lanes
 *       then added in lane order. Here the 16 positions' lane vectors are transposed in registers so that
 *       the lane-order additions run for all 16 at once (what {@code Dot.sumLanesOfBlock} does with gathers);</li>
 *   <li>weighted sum: per element one fused multiply-add per position from {@code t = 0} up, starting at 0.</li>
 * </ul>
 * Keys and values are Java arrays (heap segments, which a critical downcall may read); a head's rows
 * are found through a table of each page's first element, so the kernels walk pages as the Java code does.
 */
public final class AttentionDot {
    /** Most 16-float vectors per head (a head of 256 floats). */
    public static final int MAX_VECTORS = 16;
    private static final FunctionDescriptor SIGNATURE = FunctionDescriptor.ofVoid(ValueLayout.ADDRESS,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.ADDRESS);

    /** Why the kernels cannot run here, or null when they can. */
    public static final String UNAVAILABLE;
    private static final MethodHandle[] SCORES = new MethodHandle[MAX_VECTORS + 1], SUMS = new MethodHandle[MAX_VECTORS + 1];

    static {
        Cpu cpu = Cpu.THIS;
        String why = null;
        if (!cpu.nativeKernels() || !cpu.avx512Vnni()) {
            why = "native attention needs x86-64 Linux with AVX-512 (this CPU: " + cpu + ")";
        } else {
            try {
                for (int v = 1; v <= MAX_VECTORS; v++) {
                    SCORES[v] = NativeCode.load(scores(v), SIGNATURE);
                    SUMS[v] = NativeCode.load(weightedSum(v), SIGNATURE);
                }
            } catch (RuntimeException e) {
                why = "native attention kernels could not be loaded: " + e.getMessage();
            }
        }
        UNAVAILABLE = why;
    }

    private AttentionDot() {}

    public static boolean available() {
        return UNAVAILABLE == null;
    }

    /**
     * Raw scores (before the scale) of the head {@code q} ({@code 16 · vectors} floats) against the
     * first {@code 16 · blocks} positions: position {@code 16b + j} is row {@code j} of the b-th block of 16;
     * the blocks of page {@code p} start at float {@code pageStarts[p]} of {@code k}, rows {@code rowStride}
     * floats apart, {@code blocksPerPage} blocks a page. Scores go to {@code out} (16 per block).
     */
    public static void scores(int vectors, MemorySegment q, MemorySegment k, MemorySegment pageStarts, int blocks,
                              int blocksPerPage, int rowStride, MemorySegment out) {
        try {
            SCORES[vectors].invokeExact(q, k, pageStarts, (long) blocks, (long) blocksPerPage, 4L * rowStride, out);
        } catch (Throwable t) {
            throw NativeCode.rethrow(t);
        }
    }

    /**
     * {@code out = Σ_{t < n} s[t] · v_t} over {@code 16 · vectors} floats, position t in page {@code t / pageSize}
     * as for {@link #scores}.
     */
    public static void weightedSum(int vectors, MemorySegment s, MemorySegment v, MemorySegment pageStarts, int n,
                                   int pageSize, int rowStride, MemorySegment out) {
        try {
            SUMS[vectors].invokeExact(s, v, pageStarts, (long) n, (long) pageSize, 4L * rowStride, out);
        } catch (Throwable t) {
            throw NativeCode.rethrow(t);
        }
    }

    /**
     * Arguments: rdi = q, rsi = k, rdx = page starts (int32), rcx = blocks, r8 = blocks per page, r9 = row
     * stride in bytes; out on the stack. Registers: rax the block's first row, r11 the current row, r10
     * blocks left in the page, rbx out; zmm0-15 the 16 positions' chain sums, then their transposition;
     * zmm16-19 the four chains, zmm20 a vector of the key, zmm16-31 the transposition's temporaries.
     */
    static byte[] scores(int vectors) {
        Asm a = new Asm();
        int page = a.newLabel(), block = a.newLabel(), done = a.newLabel();
        a.pushCalleeSaved();
        a.movLoad(RBX, RSP, 56);
        a.mov(R12, R9);
        a.shl(R12, 4);                          // 16 rows
        a.bind(page);
        a.test(RCX);
        a.jz(done);
        nextPage(a);
        a.bind(block);
        a.mov(R11, RAX);
        a.mov(R13, RAX);
        a.add(R13, R12);                        // the same row of the next block (a prefetch never faults)
        for (int j = 0; j < 16; j++) {
            for (int i = 0; i < vectors; i++) {
                a.prefetcht0(R13, 64 * i);
            }
            a.add(R13, R9);
            for (int c = 0; c < 4; c++) {
                a.vpxordZ(16 + c, 16 + c, 16 + c);
            }
            for (int i = 0; i < vectors; i++) {
                a.vmovdqu32Z(20, R11, -1, 64 * i);
                a.vfmadd231psZMem(16 + i % 4, 20, RDI, -1, 64 * i);   // c += k · q
            }
            a.vaddpsZ(21, 16, 17);
            a.vaddpsZ(22, 18, 19);
            a.vaddpsZ(j, 21, 22);               // (c0 + c1) + (c2 + c3)
            a.add(R11, R9);
        }
        transpose(a);
        a.vaddpsZ(16, 0, 1);                    // lanes in order: ((l0 + l1) + l2) + ... for 16 positions at once
        for (int l = 2; l < 16; l++) {
            a.vaddpsZ(16, 16, l);
        }
        a.vmovupsZStore(RBX, 0, 16);
        a.addImm(RBX, 64);
        a.mov(RAX, R11);
        a.dec(RCX);
        a.jz(done);
        a.dec(R10);
        a.jnz(block);
        a.jmp(page);
        a.bind(done);
        a.popCalleeSavedAndReturn();
        return a.bytes();
    }

    /**
     * rax = the next page's first row (rsi + 4 · the page start read at rdx, which advances), r10 = r8
     * (blocks or positions of a page). Page starts are non-negative ints: the 32-bit load zero-extends them.
     */
    private static void nextPage(Asm a) {
        a.movLoad32(RAX, RDX, 0);
        a.addImm(RDX, 4);
        a.shl(RAX, 2);
        a.add(RAX, RSI);
        a.mov(R10, R8);
    }

    /**
     * zmm0-15 (row j = position j's 16 lanes) transposed in place: afterwards zmm k holds lane k of
     * every position. Within 128-bit blocks by unpacking and shuffling pairs, then across blocks; zmm16-31
     * hold the intermediate rows.
     */
    private static void transpose(Asm a) {
        for (int i = 0; i < 8; i++) {           // rows 2i, 2i+1 interleaved
            a.vunpcklpsZ(16 + 2 * i, 2 * i, 2 * i + 1);
            a.vunpckhpsZ(17 + 2 * i, 2 * i, 2 * i + 1);
        }
        for (int g = 0; g < 4; g++) {           // rows 4g..4g+3: register 4g+c, block m = column 4m + c
            int t = 16 + 4 * g;
            a.vshufpsZ(4 * g, t, t + 2, 0x44);
            a.vshufpsZ(4 * g + 1, t, t + 2, 0xEE);
            a.vshufpsZ(4 * g + 2, t + 1, t + 3, 0x44);
            a.vshufpsZ(4 * g + 3, t + 1, t + 3, 0xEE);
        }
        for (int c = 0; c < 4; c++) {           // rows 0-7 and 8-15: columns c, 8+c (0x88) and 4+c, 12+c (0xDD)
            a.vshuff32x4Z(16 + c, c, 4 + c, 0x88);
            a.vshuff32x4Z(20 + c, c, 4 + c, 0xDD);
            a.vshuff32x4Z(24 + c, 8 + c, 12 + c, 0x88);
            a.vshuff32x4Z(28 + c, 8 + c, 12 + c, 0xDD);
        }
        for (int c = 0; c < 4; c++) {
            a.vshuff32x4Z(c, 16 + c, 24 + c, 0x88);         // column c
            a.vshuff32x4Z(8 + c, 16 + c, 24 + c, 0xDD);     // column 8 + c
            a.vshuff32x4Z(4 + c, 20 + c, 28 + c, 0x88);     // column 4 + c
            a.vshuff32x4Z(12 + c, 20 + c, 28 + c, 0xDD);    // column 12 + c
        }
    }

    /**
     * Arguments: rdi = s, rsi = v, rdx = page starts, rcx = n, r8 = page size, r9 = row stride in bytes;
     * out on the stack. Registers: rax the current row, r10 positions left in the page; zmm0.. the sums,
     * zmm16 the position's weight.
     */
    static byte[] weightedSum(int vectors) {
        Asm a = new Asm();
        int page = a.newLabel(), row = a.newLabel(), done = a.newLabel();
        a.pushCalleeSaved();
        a.movLoad(RBX, RSP, 56);
        a.mov(R12, R9);
        a.shl(R12, 3);                          // prefetch 8 rows ahead
        for (int i = 0; i < vectors; i++) {
            a.vpxordZ(i, i, i);
        }
        a.bind(page);
        a.test(RCX);
        a.jz(done);
        nextPage(a);
        a.bind(row);
        a.mov(R13, RAX);
        a.add(R13, R12);
        for (int i = 0; i < vectors; i++) {
            a.prefetcht0(R13, 64 * i);
        }
        a.vbroadcastssZ(16, RDI, 0);
        for (int i = 0; i < vectors; i++) {
            a.vfmadd231psZMem(i, 16, RAX, -1, 64 * i);       // sum += s · v
        }
        a.addImm(RDI, 4);
        a.add(RAX, R9);
        a.dec(RCX);
        a.jz(done);
        a.dec(R10);
        a.jnz(row);
        a.jmp(page);
        a.bind(done);
        for (int i = 0; i < vectors; i++) {
            a.vmovupsZStore(RBX, 64 * i, i);
        }
        a.popCalleeSavedAndReturn();
        return a.bytes();
    }
}
