package dev.tandem.kernels.x86;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static dev.tandem.kernels.x86.Asm.*;

/**
 * Native matrix-vector kernels for Q8_0 and Q4_0 weights against activations quantized to 8-bit
 * blocks (see {@code dev.tandem.kernels.Q8Activations} for their layout), generated at start-up
 * with {@link Asm}: AVX2 + FMA + F16C, and AVX-VNNI's {@code vpdpbusd} where the processor has it
 * ({@code vpmaddubsw} + {@code vpmaddwd} otherwise: the same integers). Each weight block's
 * cache line is prefetched {@link #PREFETCH} bytes ahead, which the Vector API cannot express;
 * that is what lets one core keep more of DRAM's bandwidth busy than the out-of-order window alone.
 *
 * <p>Per output row, exactly these operations, so that every path agrees bitwise: 8 float lanes
 * {@code a[l]} start at 0; per block, {@code isum[l]} = the exact integer sum of the four products
 * of lane l (bytes {@code 4l..4l+3}), {@code scale = dw · dx} (float), {@code a[l] = fma(float(isum[l]), scale, a[l])};
 * then {@code s[i] = a[i] + a[i+4]}, {@code t0 = s0 + s2}, {@code t1 = s1 + s3}, result {@code t0 + t1}.
 *
 * <p>Signature of each kernel: {@code (long w, long rowBytes, long rows, long blocks, long act, long out)},
 * addresses of native memory; {@code act} as laid out by {@code Q8Activations}: {@code 32·blocks}
 * quantized bytes, then {@code blocks} × 8 copies of the float scale, then {@code blocks} × 8 int
 * lane sums times −8, then the same times −128.
 */
public final class IntDot {
    /** Bytes ahead of the current weight block that each block prefetches. */
    public static final int PREFETCH = Integer.getInteger("tandem.prefetch", 4096);
    private static final FunctionDescriptor SIGNATURE = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);

    private static final FunctionDescriptor TILE_SIGNATURE = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    /** Rows and vectors of the {@link #tile} register tile. */
    public static final int TILE_ROWS = 2, TILE_VECTORS = 4;

    /** Why the kernels cannot run here, or null when they can. */
    public static final String UNAVAILABLE;
    private static final MethodHandle Q8_0, Q4_0;
    /** The multi-vector tiles; null without AVX-VNNI (Q8_0's unsigned reading would saturate {@code vpmaddubsw}). */
    private static final MethodHandle TILE_Q8_0, TILE_Q4_0, PREPARE_Q8_0, PREPARE_Q4_0;
    /** The 512-bit tiles over vector pairs; null without AVX-512 VNNI. */
    private static final MethodHandle WIDE_Q8_0, WIDE_Q4_0;
    /** Vectors of the {@link #wideTile}: four pairs. */
    public static final int WIDE_VECTORS = 8;
    private static final FunctionDescriptor PREPARE_SIGNATURE = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    /** Bytes of one prepared block ({@link #prepare}): 32 unsigned weight bytes, then the scale as a float. */
    public static final int PREPARED_BLOCK = 36;

    static {
        Cpu cpu = Cpu.THIS;
        String why = null;
        MethodHandle q8 = null, q4 = null, t8 = null, t4 = null, p8 = null, p4 = null, w8 = null, w4 = null;
        if (!cpu.nativeKernels()) {
            why = "native integer kernels need x86-64 Linux with AVX2, FMA and F16C (this CPU: " + cpu + ")";
        } else {
            try {
                q8 = NativeCode.load(kernel(false, cpu.avxVnni()), SIGNATURE);
                q4 = NativeCode.load(kernel(true, cpu.avxVnni()), SIGNATURE);
                if (cpu.avxVnni()) {
                    t8 = NativeCode.load(tile(false), TILE_SIGNATURE);
                    t4 = NativeCode.load(tile(true), TILE_SIGNATURE);
                    p8 = NativeCode.load(prepare(false), PREPARE_SIGNATURE);
                    p4 = NativeCode.load(prepare(true), PREPARE_SIGNATURE);
                    if (cpu.avx512Vnni()) {
                        w8 = NativeCode.load(wideTile(false), TILE_SIGNATURE);
                        w4 = NativeCode.load(wideTile(true), TILE_SIGNATURE);
                    }
                }
            } catch (RuntimeException e) {
                why = "native integer kernels could not be loaded: " + e.getMessage();
            }
        }
        UNAVAILABLE = why;
        Q8_0 = q8;
        Q4_0 = q4;
        TILE_Q8_0 = t8;
        TILE_Q4_0 = t4;
        PREPARE_Q8_0 = p8;
        PREPARE_Q4_0 = p4;
        WIDE_Q8_0 = w8;
        WIDE_Q4_0 = w4;
    }

    private IntDot() {}

    /** "AVX-VNNI", "AVX2", or why not. */
    public static String describe() {
        return UNAVAILABLE != null ? UNAVAILABLE : Cpu.THIS.avxVnni() ? "AVX-VNNI" : "AVX2";
    }

    /** Q8_0 rows starting at address {@code w} against the activations at {@code act}; floats to {@code out}. */
    public static void q8_0(long w, long rowBytes, int rows, int blocks, long act, long out) {
        try {
            Q8_0.invokeExact(w, rowBytes, (long) rows, (long) blocks, act, out);
        } catch (Throwable t) {
            throw NativeCode.rethrow(t);
        }
    }

    /** Q4_0 rows, as {@link #q8_0}. */
    public static void q4_0(long w, long rowBytes, int rows, int blocks, long act, long out) {
        try {
            Q4_0.invokeExact(w, rowBytes, (long) rows, (long) blocks, act, out);
        } catch (Throwable t) {
            throw NativeCode.rethrow(t);
        }
    }

    /** A kernel built for the given instruction choice, whatever this processor prefers (tests compare the two). */
    static MethodHandle load(boolean q4, boolean vnni) {
        return NativeCode.load(kernel(q4, vnni), SIGNATURE);
    }

    /** Whether {@link #wide} can run (AVX-512 VNNI). */
    public static boolean wideTiles() {
        return WIDE_Q8_0 != null;
    }

    /**
     * As {@link #tile}, for 8 vectors given as 4 pairs in {@code Q8Activations}' paired layout
     * ({@code pairs} points at pair 0, pair j at {@code + j · pairStride}): row r, vector t to the float at
     * {@code out + t · outStride + 4r}. A 512-bit register holds one element of each vector of a pair
     * in its two halves, so every element gets exactly {@link #tile}'s (and {@link #q8_0}'s) operations.
     */
    public static void wide(boolean q4, long prepared, int rowPairs, int blocks, long pairs, long pairStride, long out, long outStride) {
        try {
            (q4 ? WIDE_Q4_0 : WIDE_Q8_0).invokeExact(prepared, (long) PREPARED_BLOCK * blocks, (long) rowPairs, (long) blocks,
                    pairs, out, pairStride, outStride);
        } catch (Throwable t) {
            throw NativeCode.rethrow(t);
        }
    }

    /**
     * The 2-row × 8-vector tile in 512-bit registers (AVX-512 VNNI) over {@link #prepare prepared} rows
     * and paired activations. Arguments as {@link #tile}'s, with r8 = pair 0 and the pair stride on the
     * stack. Registers: rax / r10 the rows, rbx / rbp / r12 quants / scales / lane sums of pair 0 (pair j
     * at + j · stride: r13, r14, r15), r11 blocks left; zmm0-7 the accumulators (row · 4 + pair; low
     * half the pair's first vector, high half its second), zmm8 / zmm9 a row's 32 bytes in both halves,
     * zmm10 / zmm11 its scale, zmm12 the integer sums, zmm13 the scales' products, zmm14 the pair's
     * lane sums.
     */
    static byte[] wideTile(boolean q4) {
        Asm a = new Asm();
        int rowLoop = a.newLabel(), blockLoop = a.newLabel(), done = a.newLabel();
        a.pushCalleeSaved();
        int[] index = strides(a, 56);           // the 7th argument, after six pushes and the return address
        a.bind(rowLoop);
        a.test(RDX);
        a.jz(done);
        for (int acc = 0; acc < 8; acc++) {
            a.vpxordZ(acc, acc, acc);
        }
        a.mov(RAX, RDI);
        a.mov(R10, RDI);
        a.add(R10, RSI);
        vectorPointers(a, 6, q4 ? 6 : 7);
        a.mov(R11, RCX);
        a.bind(blockLoop);
        for (int row = 0; row < 2; row++) {
            int base = row == 0 ? RAX : R10;
            a.vbroadcasti64x4Z(8 + row, base, 0);
            a.vbroadcastssZ(10 + row, base, 32);
        }
        for (int p = 0; p < 4; p++) {
            a.vmovdqu32Z(14, R12, index[p], 0);
            for (int row = 0; row < 2; row++) {
                a.vmovdqa32Z(12, 14);
                a.vpdpbusdZ(12, 8 + row, RBX, index[p], 0);
                a.vcvtdq2psZ(12, 12);
                a.vmulpsZ(13, 10 + row, RBP, index[p], 0);  // dw · dx
                a.vfmadd231psZ(row * 4 + p, 12, 13);
            }
        }
        a.addImm(RAX, PREPARED_BLOCK);
        a.addImm(R10, PREPARED_BLOCK);
        a.addImm(RBX, 64);
        a.addImm(RBP, 64);
        a.addImm(R12, 64);
        a.dec(R11);
        a.jnz(blockLoop);
        a.movLoad(R11, RSP, 64);                // outStride
        a.mov(R10, R9);
        for (int p = 0; p < 4; p++) {
            a.mov(RAX, R10);
            a.add(RAX, R11);                    // the pair's second vector
            for (int row = 0; row < 2; row++) {
                int acc = row * 4 + p;
                a.vextractf64x4Z(12, acc, 1);   // the high half first: VEX operations on acc clear it
                sumLanesAndStore(a, acc, 13, R10, 4 * row);
                sumLanesAndStore(a, 12, 13, RAX, 4 * row);
            }
            a.add(R10, R11);
            a.add(R10, R11);
        }
        a.addImm(R9, 8);
        a.add(RDI, RSI);
        a.add(RDI, RSI);
        a.dec(RDX);
        a.jmp(rowLoop);
        a.bind(done);
        a.popCalleeSavedAndReturn();
        return a.bytes();
    }

    /** Whether {@link #tile} and {@link #prepare} can run (AVX-VNNI). */
    public static boolean tiles() {
        return TILE_Q8_0 != null;
    }

    /**
     * {@code rows} rows of Q8_0 ({@code q4} false) or Q4_0 weights from {@code w} to {@code dst}, laid out for
     * {@link #tile}: per block {@value #PREPARED_BLOCK} bytes, the 32 weights as unsigned bytes in order
     * (Q8_0: w + 128; Q4_0: w + 8) and the block's scale widened to a float (exactly).
     */
    public static void prepare(boolean q4, long w, long rowBytes, int rows, int blocks, long dst) {
        try {
            (q4 ? PREPARE_Q4_0 : PREPARE_Q8_0).invokeExact(w, rowBytes, (long) rows, (long) blocks, dst);
        } catch (Throwable t) {
            throw NativeCode.rethrow(t);
        }
    }

    /**
     * {@code pairs} pairs of {@link #prepare prepared} rows ({@code PREPARED_BLOCK · blocks} bytes apart) times
     * the 4 quantized vectors at {@code act}, {@code act + actStride}, ...: row r, vector t to the float at
     * {@code out + t · outStride + 4r}. Each element gets exactly the operations of {@link #q8_0} / {@link #q4_0}.
     */
    public static void tile(boolean q4, long prepared, int pairs, int blocks, long act, long actStride, long out, long outStride) {
        try {
            (q4 ? TILE_Q4_0 : TILE_Q8_0).invokeExact(prepared, (long) PREPARED_BLOCK * blocks, (long) pairs, (long) blocks,
                    act, out, actStride, outStride);
        } catch (Throwable t) {
            throw NativeCode.rethrow(t);
        }
    }

    /**
     * The preparation for the tile. Arguments: rdi = w, rsi = rowBytes, rdx = rows, rcx = blocks, r8 = dst.
     * The weights are unpacked as by {@link #kernel}'s blocks; ymm13 / ymm15 the same constants.
     */
    static byte[] prepare(boolean q4) {
        int blockBytes = q4 ? 18 : 34;
        Asm a = new Asm();
        int rowLoop = a.newLabel(), blockLoop = a.newLabel(), done = a.newLabel();
        constants(a, q4);
        a.bind(rowLoop);
        a.test(RDX);
        a.jz(done);
        a.mov(RAX, RDI);
        a.mov(R11, RCX);
        a.bind(blockLoop);
        if (q4) {
            unpackQ4(a, 1, RAX, 0);             // w + 8
        } else {
            a.vmovdquLoad(true, 1, RAX, 2);
            a.vpxor(1, 1, 15);                  // w + 128
        }
        a.vmovupsStore(R8, 0, 1);
        a.vpbroadcastwMem(2, RAX, 0);
        a.vcvtph2ps(2, 2);
        a.vmovssStore(R8, 32, 2);
        a.addImm(RAX, blockBytes);
        a.addImm(R8, PREPARED_BLOCK);
        a.dec(R11);
        a.jnz(blockLoop);
        a.add(RDI, RSI);
        a.dec(RDX);
        a.jmp(rowLoop);
        a.bind(done);
        a.vzeroupper();
        a.ret();
        return a.bytes();
    }

    /**
     * The 2-row × 4-vector tile (AVX-VNNI) over {@link #prepare prepared} rows. Arguments: rdi = prepared rows,
     * rsi = their stride, rdx = row pairs,
     * rcx = blocks, r8 = act, r9 = out; on the stack actStride, outStride. Registers: rax / r10 the
     * two rows' block pointers, rbx / rbp / r12 quants / scales / lane sums of vector 0 (vector t at
     * + t · actStride: r13, r14, r15 hold 1, 2, 3 strides), r11 blocks left; ymm0-7 the accumulators
     * (row · 4 + vector), ymm8 / ymm9 the rows' weights as unsigned bytes, ymm10 / ymm11 their
     * scales, ymm14 the vector's lane sums (× −8 or × −128: each integer sum starts there, which
     * takes off the weights' offset: Q8_0's weights are w XOR 0x80 = w + 128; vpdpbusd does not saturate).
     */
    static byte[] tile(boolean q4) {
        int blockBytes = PREPARED_BLOCK;
        Asm a = new Asm();
        int rowLoop = a.newLabel(), blockLoop = a.newLabel(), done = a.newLabel();
        a.pushCalleeSaved();
        int[] index = strides(a, 56);           // the 7th argument, after six pushes and the return address
        a.bind(rowLoop);
        a.test(RDX);
        a.jz(done);
        for (int acc = 0; acc < 8; acc++) {
            a.vxorps(acc, acc, acc);
        }
        a.mov(RAX, RDI);
        a.mov(R10, RDI);
        a.add(R10, RSI);
        vectorPointers(a, 5, q4 ? 5 : 6);
        a.mov(R11, RCX);
        a.bind(blockLoop);
        for (int row = 0; row < 2; row++) {
            int base = row == 0 ? RAX : R10;
            a.vmovdquLoad(true, 8 + row, base, 0);          // prepared: unsigned bytes, then the scale as a float
            a.vbroadcastssMem(10 + row, base, 32);
        }
        for (int t = 0; t < 4; t++) {
            a.vmovdquLoad(14, R12, index[t], 0);                // vector t's lane sums × −8 / −128
            for (int row = 0; row < 2; row++) {
                a.vmovdqa(12, 14);                              // the integer sum starts there (a renamed copy)
                a.vpdpbusdMem(12, 8 + row, RBX, index[t], 0);
                a.vcvtdq2ps(12, 12);
                a.vmulpsMem(13, 10 + row, RBP, index[t], 0);   // dw · dx
                a.vfmadd231ps(row * 4 + t, 12, 13);
            }
        }
        a.addImm(RAX, blockBytes);
        a.addImm(R10, blockBytes);
        a.addImm(RBX, 32);
        a.addImm(RBP, 32);
        a.addImm(R12, 32);
        a.dec(R11);
        a.jnz(blockLoop);
        a.movLoad(R11, RSP, 64);                // outStride
        a.mov(R10, R9);
        for (int t = 0; t < 4; t++) {
            for (int row = 0; row < 2; row++) {
                int acc = row * 4 + t;
                sumLanesAndStore(a, acc, 12, R10, 4 * row);
            }
            a.add(R10, R11);
        }
        a.addImm(R9, 8);
        a.add(RDI, RSI);
        a.add(RDI, RSI);
        a.dec(RDX);
        a.jmp(rowLoop);
        a.bind(done);
        a.popCalleeSavedAndReturn();
        return a.bytes();
    }


    /**
     * The kernel. Arguments (System V): rdi = w, rsi = rowBytes, rdx = rows, rcx = blocks, r8 = act, r9 = out.
     * Registers: rax block pointer, rbx quants pointer, rbp scales pointer, r12 lane-sums pointer,
     * r11 block pairs left, r14 / r15 scales / lane-sums bases; ymm0 accumulator, ymm13 the shift
     * counts {0,0,0,0,4,4,4,4} (Q4_0's high nibbles), ymm14 16-bit ones, ymm15 the nibble mask
     * (Q4_0) or the sign bit (Q8_0 with VNNI: w XOR 0x80 = w + 128, the lane's integer sum starting
     * at −128 · its activation sum). Blocks go two at a time, then a last odd one.
     */
    static byte[] kernel(boolean q4, boolean vnni) {
        int blockBytes = q4 ? 18 : 34;
        boolean unsigned8 = !q4 && vnni;           // Q8_0 weights read as unsigned bytes (needs vpdpbusd: no saturation)
        Asm a = new Asm();
        int rowLoop = a.newLabel(), pairLoop = a.newLabel(), noPairs = a.newLabel(), noTail = a.newLabel(), done = a.newLabel();
        a.pushCalleeSaved();
        a.mov(R13, RCX);
        a.shl(R13, 5);                      // 32 · blocks
        a.mov(R14, R8);
        a.add(R14, R13);                    // scales
        a.mov(R15, R14);
        a.add(R15, R13);                    // lane sums × −8
        if (unsigned8) {
            a.add(R15, R13);                // lane sums × −128
        }
        a.movImm32(R10, 0x00010001);
        a.vmovd(14, R10);
        a.vpbroadcastd(14, 14);             // sixteen 16-bit ones
        constants(a, q4);
        a.bind(rowLoop);
        a.test(RDX);
        a.jz(done);
        a.vxorps(0, 0, 0);
        a.mov(RAX, RDI);
        a.mov(RBX, R8);
        a.mov(RBP, R14);
        a.mov(R12, R15);
        a.mov(R11, RCX);
        a.shr(R11, 1);
        a.jz(noPairs);
        a.bind(pairLoop);
        a.prefetcht0(RAX, PREFETCH);
        block(a, q4, vnni, unsigned8, 0, 0);
        block(a, q4, vnni, unsigned8, blockBytes, 32);
        a.addImm(RAX, 2 * blockBytes);
        a.addImm(RBX, 64);
        a.addImm(RBP, 64);
        a.addImm(R12, 64);
        a.dec(R11);
        a.jnz(pairLoop);
        a.bind(noPairs);
        a.testImm(RCX, 1);
        a.jz(noTail);
        block(a, q4, vnni, unsigned8, 0, 0);
        a.bind(noTail);
        sumLanesAndStore(a, 0, 1, R9, 0);
        a.addImm(R9, 4);
        a.add(RDI, RSI);
        a.dec(RDX);
        a.jmp(rowLoop);
        a.bind(done);
        a.popCalleeSavedAndReturn();
        return a.bytes();
    }

    /**
     * r13, r14, r15 = 1, 2 and 3 times the stride at {@code [rsp + at]}; returns the index registers
     * of vectors (or pairs) 0-3: none, r13, r14, r15.
     */
    static int[] strides(Asm a, int at) {
        a.movLoad(R13, RSP, at);
        a.mov(R14, R13);
        a.add(R14, R13);
        a.mov(R15, R14);
        a.add(R15, R13);
        return new int[]{-1, R13, R14, R15};
    }

    /**
     * rbx / rbp / r12 = the quants, scales and lane sums of the vector (or pair) at r8, with rcx
     * blocks: scales {@code 2^scaleShift · blocks} bytes after the quants, lane sums
     * {@code 2^sumsShift · blocks} after the scales.
     */
    static void vectorPointers(Asm a, int scaleShift, int sumsShift) {
        a.mov(RBX, R8);
        a.mov(RBP, RCX);
        a.shl(RBP, scaleShift);
        a.add(RBP, R8);
        a.mov(R12, RCX);
        a.shl(R12, sumsShift);
        a.add(R12, RBP);
    }

    /**
     * ymm15 = the nibble mask (Q4_0) or the sign bit of every byte (Q8_0); ymm13 = the dword shift
     * counts {0,0,0,0,4,4,4,4} of {@link #unpackQ4}. Uses r10 and ymm12.
     */
    static void constants(Asm a, boolean q4) {
        a.movImm32(R10, q4 ? 0x0F0F0F0F : 0x80808080);
        a.vmovd(15, R10);
        a.vpbroadcastd(15, 15);
        a.movImm32(R10, 4);
        a.vmovd(13, R10);
        a.vpbroadcastd(13, 13);
        a.vpxor(12, 12, 12);
        a.vinserti128(13, 12, 13, 1);
    }

    /** The 32 weights of the Q4_0 block at {@code [base + at]} as bytes {@code w + 8}, in order, into ymm {@code dst}. */
    static void unpackQ4(Asm a, int dst, int base, int at) {
        a.vbroadcasti128(dst, base, at + 2);    // the 16 bytes in both halves
        a.vpsrlvd(dst, dst, 13);                // the high half shifted: its low nibbles are the high ones
        a.vpand(dst, dst, 15);
    }

    /**
     * The fixed horizontal sum of the 8 lanes of ymm {@code acc} — {@code s[i] = a[i] + a[i+4]},
     * {@code t0 = s0 + s2}, {@code t1 = s1 + s3}, {@code t0 + t1} — stored as a float at {@code [base + disp]}.
     */
    static void sumLanesAndStore(Asm a, int acc, int tmp, int base, int disp) {
        a.vextractf128(tmp, acc, 1);
        a.vaddps128(acc, acc, tmp);
        a.vmovhlps(tmp, acc, acc);
        a.vaddps128(acc, acc, tmp);
        a.vmovshdup(tmp, acc);
        a.vaddss(acc, acc, tmp);
        a.vmovssStore(base, disp, acc);
    }

    /** One block at {@code [rax + w]}, its activations at {@code [rbx / rbp / r12 + x]}, into ymm0. */
    private static void block(Asm a, boolean q4, boolean vnni, boolean unsigned8, int w, int x) {
        if (q4) {
            unpackQ4(a, 1, RAX, w);
            if (vnni) {
                a.vmovdquLoad(true, 4, R12, x); // the integer sum starts at −8 · Σx of the lane
                a.vpdpbusdMem(4, 1, RBX, x);
            } else {
                a.vpmaddubswMem(4, 1, RBX, x);
                a.vpmaddwd(4, 4, 14);
                a.vpadddMem(4, 4, R12, x);      // + (−8 · Σx of the lane)
            }
        } else if (unsigned8) {
            a.vmovdquLoad(true, 1, RAX, w + 2);
            a.vpxor(1, 1, 15);                  // w + 128 as unsigned bytes
            a.vmovdquLoad(true, 4, R12, x);     // the integer sum starts at −128 · Σx of the lane
            a.vpdpbusdMem(4, 1, RBX, x);
        } else {
            a.vmovdquLoad(true, 1, RAX, w + 2);
            a.vpabsb(2, 1);                     // |w| as unsigned bytes
            a.vmovdquLoad(true, 3, RBX, x);
            a.vpsignb(3, 3, 1);                 // x with w's sign
            a.vpmaddubsw(4, 2, 3);
            a.vpmaddwd(4, 4, 14);
        }
        a.vcvtdq2ps(4, 4);
        a.vpbroadcastwMem(5, RAX, w);
        a.vcvtph2ps(5, 5);
        a.vmulpsMem(5, 5, RBP, x);              // dw · dx
        a.vfmadd231ps(0, 4, 5);
    }
}
