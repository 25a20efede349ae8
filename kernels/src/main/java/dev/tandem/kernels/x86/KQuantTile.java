package dev.tandem.kernels.x86;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static dev.tandem.kernels.x86.Asm.*;

/**
 * The multi-vector path for Q4_K and Q6_K weights (prefill), as {@link IntDot#prepare} /
 * {@link IntDot#tile} are for Q8_0 / Q4_0: a block of rows is unpacked once ({@link #prepare})
 * into codes and float factors the tile reads with plain loads, then every group of
 * {@value #TILE_VECTORS} vectors meets it ({@link #tile}). The unpacking (nibbles, Q6_K's high
 * bits, the 6-bit Q4_K scale decoding, Q6_K's per-lane sub-scale permutation) is what dominates
 * {@link KQuantDot}'s matrix-vector kernels; here it is paid once per row block instead of once
 * per row and vector.
 *
 * <p>Each element gets exactly {@link KQuantDot}'s operations (documented there; the Java twin
 * is {@code KQuantInt.rowReference}): the prepared factors are the very floats those kernels compute
 * per super-block ({@code ds}, {@code dm8}, Q6_K's {@code d · float(scales[i])}, by the same
 * generated code), each product {@code factor · dx} is the same single float multiplication (here
 * eight at a time, one per block), the integer sums are exact in any order, the lane sums' float
 * conversion is exact, and the chains {@code a[l]} / {@code b[l]}, their final sum and the
 * horizontal sum are the same.
 *
 * <p>The tile is one row × 4 vectors: Q4_K's two chains per element make 2 × 4 need 16 accumulators,
 * and with one row there are no leftover rows. AVX-VNNI only (like IntDot's tiles); elsewhere the
 * matrix-vector kernels serve every vector. With AVX-512 VNNI, {@link #wide} does the same for 8
 * vectors at once (as IntDot's wide tile: one 512-bit register per vector pair, the pair's vectors
 * in its halves, so each element keeps exactly the operations above).
 *
 * <p>Prepared layout, per super-block of a row (320 bytes): the 8 blocks' 32 unsigned codes (256
 * bytes; Q4_K 0..15, Q6_K 0..63), then 16 floats: Q4_K {@code ds[0..7]}, {@code dm8[0..7]}; Q6_K
 * {@code ds[i] = d · float(scales[i])}, i = 0..15 (block j's lanes 0-3 take {@code ds[2j]}, 4-7 {@code ds[2j+1]}).
 *
 * <p>Vector factors: per vector, at the same stride as its activations (so one index register
 * serves both), what the tile would otherwise redo per row, filled by the caller from the
 * activations: at 0 the compact scales {@code dx[k]} (4 · blocks bytes), at 4 · blocks each
 * {@code dx[k]} twice (8 · blocks), at 12 · blocks per block 8 lanes (32 · blocks): Q4_K
 * {@code float(−8 · Σ xq)} (exact), Q6_K the int {@code −32 · Σ xq}. 44 · blocks bytes in all, less than
 * an activation vector's 128 · blocks.
 */
public final class KQuantTile {
    /** Vectors per tile call. */
    public static final int TILE_VECTORS = 4;
    private static final FunctionDescriptor PREPARE_SIGNATURE = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    private static final FunctionDescriptor TILE_SIGNATURE = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    /** Prepared bytes per super-block: 256 codes, 16 float factors. */
    private static final int PREPARED_SUPER = 320;
    /** Q6_K preparation's stack frame: the super-block's 16 sub-scale factors. */
    private static final int TABLE = 0, FRAME = 64;
    /** The tile's stack frame: per vector its 16 products factor · dx, then Q6_K's lane permutations. */
    private static final int TILE_INDICES = 256, TILE_FRAME = 384;

    /** Vectors per {@link #wide} call: four pairs. */
    public static final int WIDE_VECTORS = 8;
    /** The wide tile's stack frame: Q6_K's 8 lane permutations (one per block of a super-block). */
    private static final int WIDE_FRAME = 512;

    private static final MethodHandle PREPARE_Q4_K, PREPARE_Q6_K, TILE_Q4_K, TILE_Q6_K, WIDE_Q4_K, WIDE_Q6_K;

    static {
        MethodHandle p4 = null, p6 = null, t4 = null, t6 = null, w4 = null, w6 = null;
        if (KQuantDot.UNAVAILABLE == null && Cpu.THIS.avxVnni()) {
            try {
                p4 = NativeCode.load(prepare(false), PREPARE_SIGNATURE);
                p6 = NativeCode.load(prepare(true), PREPARE_SIGNATURE);
                t4 = NativeCode.load(tile(false), TILE_SIGNATURE);
                t6 = NativeCode.load(tile(true), TILE_SIGNATURE);
            } catch (RuntimeException e) {
                p4 = p6 = t4 = t6 = null;
            }
            if (t6 != null && Cpu.THIS.avx512Vnni()) {
                try {
                    w4 = NativeCode.load(wideTile(false), TILE_SIGNATURE);
                    w6 = NativeCode.load(wideTile(true), TILE_SIGNATURE);
                } catch (RuntimeException e) {
                    w4 = w6 = null;
                }
            }
        }
        PREPARE_Q4_K = p4;
        PREPARE_Q6_K = p6;
        TILE_Q4_K = t4;
        TILE_Q6_K = t6;
        WIDE_Q4_K = w4;
        WIDE_Q6_K = w6;
    }

    private KQuantTile() {}

    /** Whether {@link #prepare} and {@link #tile} can run (native kernels with AVX-VNNI). */
    public static boolean available() {
        return TILE_Q6_K != null;
    }

    /** Bytes of one prepared row of {@code blocks} blocks of 32. */
    public static long preparedRowBytes(boolean q6, int blocks) {
        return (long) (blocks / 8) * PREPARED_SUPER;
    }

    /**
     * {@code rows} Q4_K ({@code q6} false) or Q6_K rows from address {@code w} ({@code rowBytes} apart)
     * to {@code dst} in the prepared layout, {@link #preparedRowBytes} per row.
     */
    public static void prepare(boolean q6, long w, long rowBytes, int rows, int blocks, long dst) {
        check(blocks);
        try {
            (q6 ? PREPARE_Q6_K : PREPARE_Q4_K).invokeExact(w, rowBytes, (long) rows, (long) blocks, dst);
        } catch (Throwable t) {
            throw NativeCode.rethrow(t);
        }
    }

    /**
     * {@code rows} {@link #prepare prepared} rows times the 4 quantized vectors at {@code act},
     * {@code act + actStride}, ..., whose vector factors (see the class) are at {@code factors},
     * {@code factors + actStride}, ...: row r, vector t to the float at {@code out + t · outStride + 4r}.
     */
    public static void tile(boolean q6, long prepared, int rows, int blocks, long act, long actStride, long factors,
                            long out, long outStride) {
        check(blocks);
        try {
            (q6 ? TILE_Q6_K : TILE_Q4_K).invokeExact(prepared, preparedRowBytes(q6, blocks), (long) rows, (long) blocks,
                    act, out, actStride, outStride, factors);
        } catch (Throwable t) {
            throw NativeCode.rethrow(t);
        }
    }

    /** Whether {@link #wide} can run (AVX-512 VNNI). */
    public static boolean wideAvailable() {
        return WIDE_Q6_K != null;
    }

    /**
     * As {@link #tile}, for 8 vectors given as 4 pairs in {@code Q8Activations}' paired layout ({@code pairs}
     * points at pair 0, pair j at {@code + j · pairStride}) with their {@link #pairFactorBytes pair factors}
     * at {@code factors}, {@code factors + pairStride}, ...: row r, vector t to the float at
     * {@code out + t · outStride + 4r}. A 512-bit register holds one element of each vector of a pair in
     * its two halves, so every element gets exactly {@link #tile}'s operations.
     */
    public static void wide(boolean q6, long prepared, int rows, int blocks, long pairs, long pairStride, long factors,
                            long out, long outStride) {
        check(blocks);
        try {
            (q6 ? WIDE_Q6_K : WIDE_Q4_K).invokeExact(prepared, preparedRowBytes(q6, blocks), (long) rows, (long) blocks,
                    pairs, out, pairStride, outStride, factors);
        } catch (Throwable t) {
            throw NativeCode.rethrow(t);
        }
    }

    /**
     * Bytes of one pair's factors for {@link #wide}: per block 64 bytes, the 8 lane values of the class's
     * vector factors (Q4_K {@code float(−8 · Σ xq)}, Q6_K the int {@code −32 · Σ xq}) of the pair's first
     * vector, then its second's. They sit at the pair stride.
     */
    public static long pairFactorBytes(int blocks) {
        return 64L * blocks;
    }

    /** Bytes of one vector's factors (see the class); they sit at the activations' stride. */
    public static long factorBytes(int blocks) {
        return 44L * blocks;
    }

    private static void check(int blocks) {
        if (blocks <= 0 || blocks % 8 != 0) {
            throw new IllegalArgumentException(blocks + " blocks of 32 is not a positive number of super-blocks");
        }
    }

    /**
     * The preparation. Arguments: rdi = w, rsi = rowBytes, rdx = rows, rcx = blocks, r8 = dst.
     * rax the super-block, r11 super-blocks left; the decoding is {@link KQuantDot}'s own
     * ({@link KQuantDot#q4Scales}, {@link KQuantDot#q6Scales} / {@link KQuantDot#q6Codes}), so the
     * factors are the same floats.
     */
    static byte[] prepare(boolean q6) {
        Asm a = new Asm();
        int rowLoop = a.newLabel(), superLoop = a.newLabel(), done = a.newLabel();
        for (int r : new int[]{R13, R14, R15}) {
            a.push(r);
        }
        KQuantDot.broadcastBytes(a, 15, 0x0F);
        if (q6) {
            a.addImm(RSP, -FRAME);
            KQuantDot.broadcastBytes(a, 12, 0x0C);
            KQuantDot.broadcastBytes(a, 13, 0x03);
            KQuantDot.broadcastBytes(a, 14, 0x30);
        } else {
            a.movImm32(R10, Float.floatToRawIntBits(0.125f));
            a.vmovd(14, R10);
            a.vpbroadcastd(14, 14);
        }
        a.bind(rowLoop);
        a.test(RDX);
        a.jz(done);
        a.mov(RAX, RDI);
        a.mov(R11, RCX);
        a.shr64(R11, 3);
        a.bind(superLoop);
        if (q6) {
            KQuantDot.q6Scales(a, TABLE);
            a.vmovupsStore(R8, 256, 1);                     // ds[0..7]
            a.vmovupsStore(R8, 288, 2);                     // ds[8..15]
            for (int h = 0; h < 2; h++) {
                KQuantDot.q6Half(a, h);
                for (int g = 0; g < 4; g++) {
                    int j = 4 * h + g;
                    KQuantDot.q6Codes(a, g);
                    a.vmovupsStore(R8, 32 * j, 1);
                }
            }
        } else {
            KQuantDot.q4Scales(a, R9);
            a.vmovupsStore(R8, 256, 1);                     // ds[s]
            a.vmovupsStore(R8, 288, 2);                     // dm8[s]
            for (int s = 0; s < 8; s++) {
                if (s % 2 == 0) {
                    a.vmovdquLoad(true, 7, RAX, 16 + 16 * s);   // sub-block s (low nibbles), s + 1 (high)
                    a.vpand(3, 7, 15);
                } else {
                    a.vpsrlw256(3, 7, 4);
                    a.vpand(3, 3, 15);
                }
                a.vmovupsStore(R8, 32 * s, 3);
            }
        }
        a.addImm(RAX, q6 ? 210 : 144);
        a.addImm(R8, PREPARED_SUPER);
        a.dec(R11);
        a.jnz(superLoop);
        a.add(RDI, RSI);
        a.dec(RDX);
        a.jmp(rowLoop);
        a.bind(done);
        if (q6) {
            a.addImm(RSP, FRAME);
        }
        a.vzeroupper();
        for (int r : new int[]{R15, R14, R13}) {
            a.pop(r);
        }
        a.ret();
        return a.bytes();
    }

    /**
     * The 1-row × 4-vector tile (AVX-VNNI). Arguments: rdi = prepared rows, rsi = their stride,
     * rdx = rows, rcx = blocks, r8 = act, r9 = out; on the stack actStride, outStride, factors (the
     * vector factors (see the class) of vector 0, vector t's at + t · actStride like its activations).
     * Registers: rax the prepared super-block, rbx the quants of vector 0, rbp its compact scales (Q4_K
     * {@code dx[k]}, Q6_K {@code dx[k]} twice), r12 its lane data (vector t at + t · actStride: r13,
     * r14, r15 hold 1, 2, 3 strides), r11 super-blocks left; ymm0-3 the accumulators a of the 4
     * vectors (Q4_K: ymm4-7 their b; Q6_K: ymm4-7 the lane permutations of its blocks g = 0..3),
     * ymm8 the block's codes, ymm13 / ymm14 the super-block's 16 factors.
     *
     * <p>Per super-block and vector, the 16 products {@code factor · dx} (Q4_K {@code ds[s] · dx[s]},
     * {@code dm8[s] · dx[s]}; Q6_K {@code ds[i] · dx[i / 2]}) come from two multiplications into a
     * stack table, and each block broadcasts (Q4_K) or permutes (Q6_K) its own: the same floats as the
     * matrix-vector kernels' one product per block, without 8 identical lanes computed each time.
     */
    static byte[] tile(boolean q6) {
        Asm a = new Asm();
        int rowLoop = a.newLabel(), superLoop = a.newLabel(), done = a.newLabel();
        a.pushCalleeSaved();
        a.addImm(RSP, -TILE_FRAME);
        int args = TILE_FRAME + 56;             // after the frame, six pushes and the return address
        int[] index = IntDot.strides(a, args);  // actStride and its multiples
        if (q6) {
            for (int g = 0; g < 4; g++) {       // block g of a half: lanes 0-3 take factor 2g, lanes 4-7 factor 2g + 1
                for (int l = 0; l < 8; l++) {
                    a.movStoreImm32(RSP, TILE_INDICES + 32 * g + 4 * l, 2 * g + l / 4);
                }
                a.vmovdquLoad(true, 4 + g, RSP, TILE_INDICES + 32 * g);
            }
        }
        int accumulators = q6 ? 4 : 8;
        a.bind(rowLoop);
        a.test(RDX);
        a.jz(done);
        for (int acc = 0; acc < accumulators; acc++) {
            a.vxorps(acc, acc, acc);
        }
        a.mov(RAX, RDI);
        a.mov(RBX, R8);
        a.movLoad(RBP, RSP, args + 16);         // the factors: compact scales
        a.mov(R10, RCX);
        a.shl(R10, 2);                          // 4 · blocks
        a.mov(R12, R10);
        a.add(R12, R10);
        a.add(R12, R10);
        a.add(R12, RBP);                        // lane data at 12 · blocks
        if (q6) {
            a.add(RBP, R10);                    // Q6_K's scales twice each, at 4 · blocks
        }
        a.mov(R11, RCX);
        a.shr64(R11, 3);
        a.bind(superLoop);
        a.vmovdquLoad(true, 13, RAX, 256);
        a.vmovdquLoad(true, 14, RAX, 288);
        for (int t = 0; t < TILE_VECTORS; t++) {
            a.vmulpsMem(11, 13, RBP, index[t], 0);          // Q4_K ds[s] · dx[s]; Q6_K ds[i] · dx[i / 2], i < 8
            a.vmovupsStore(RSP, 64 * t, 11);
            a.vmulpsMem(12, 14, RBP, index[t], q6 ? 32 : 0); // Q4_K dm8[s] · dx[s]; Q6_K i >= 8
            a.vmovupsStore(RSP, 64 * t + 32, 12);
        }
        for (int s = 0; s < 8; s++) {
            int x = 32 * s;
            a.vmovdquLoad(true, 8, RAX, 32 * s);                // the block's codes
            for (int t = 0; t < TILE_VECTORS; t++) {
                if (q6) {
                    a.vmovdquLoad(9, R12, index[t], x);         // −32 · Σ xq of each lane: the integer sum starts there
                    a.vpdpbusdMem(9, 8, RBX, index[t], x);
                    a.vcvtdq2ps(9, 9);
                    a.vpermpsMem(10, 4 + s % 4, RSP, 64 * t + 32 * (s / 4));   // ds[l] · dx
                    a.vfmadd231ps(t, 9, 10);
                } else {
                    a.vpxor(9, 9, 9);
                    a.vpdpbusdMem(9, 8, RBX, index[t], x);
                    a.vcvtdq2ps(9, 9);
                    a.vbroadcastssMem(10, RSP, 64 * t + 4 * s);         // ds · dx
                    a.vfmadd231ps(t, 9, 10);
                    a.vbroadcastssMem(12, RSP, 64 * t + 32 + 4 * s);    // dm8 · dx
                    a.vfmadd231psMem(4 + t, 12, R12, index[t], x);      // times −float(8 · Σ xq)
                }
            }
        }
        a.addImm(RAX, PREPARED_SUPER);
        a.addImm(RBX, 256);
        a.addImm(RBP, q6 ? 64 : 32);
        a.addImm(R12, 256);
        a.dec(R11);
        a.jnz(superLoop);
        a.movLoad(R11, RSP, args + 8);          // outStride
        a.mov(R10, R9);
        for (int t = 0; t < TILE_VECTORS; t++) {
            if (!q6) {
                a.vaddps(t, t, 4 + t);          // a[l] + b[l]
            }
            IntDot.sumLanesAndStore(a, t, 12, R10, 0);
            a.add(R10, R11);
        }
        a.addImm(R9, 4);
        a.add(RDI, RSI);
        a.dec(RDX);
        a.jmp(rowLoop);
        a.bind(done);
        a.addImm(RSP, TILE_FRAME);
        a.popCalleeSavedAndReturn();
        return a.bytes();
    }

    /**
     * The 1-row × 8-vector tile in 512-bit registers (AVX-512 VNNI) over prepared rows and paired
     * activations. Arguments as {@link #tile}'s, with r8 = pair 0, the pair stride in place of actStride
     * and the pair factors in place of the vector factors. Registers: rax the prepared super-block, rbx /
     * rbp the quants / scales of pair 0 (Q8Activations' paired layout: per block 64 bytes of each), r12
     * its pair factors (pair j of each at + j · stride: r13, r14, r15), r11 super-blocks left; zmm0-3 the
     * accumulators a of the 4 pairs (low half the pair's first vector, high half its second; Q4_K:
     * zmm4-7 their b), zmm8 the block's codes in both halves, zmm11 (and Q4_K zmm12) the block's
     * weight factors, Q4_K zmm14 the pair's {@code dx} lanes.
     *
     * <p>Where {@link #tile} multiplies a super-block's 16 weight factors by the compact scales into a
     * table and broadcasts (Q4_K) or permutes (Q6_K) from it, this one first spreads the block's factor
     * over the lanes (Q4_K a broadcast of {@code ds[s]}, {@code dm8[s]}; Q6_K a permutation of the 16
     * {@code ds[i]} to {@code ds[2j + l/4]}) and multiplies by the 16 lane copies of {@code dx} the pair
     * layout holds: the same two floats in each product, so the same float {@code factor · dx}.
     */
    static byte[] wideTile(boolean q6) {
        Asm a = new Asm();
        int rowLoop = a.newLabel(), superLoop = a.newLabel(), done = a.newLabel();
        a.pushCalleeSaved();
        a.addImm(RSP, -WIDE_FRAME);
        int args = WIDE_FRAME + 56;             // after the frame, six pushes and the return address
        int[] index = IntDot.strides(a, args);  // pair stride and its multiples
        if (q6) {
            for (int j = 0; j < 8; j++) {       // block j: lanes 0-3 take factor 2j, lanes 4-7 2j + 1, in both halves
                for (int l = 0; l < 16; l++) {
                    a.movStoreImm32(RSP, 64 * j + 4 * l, 2 * j + l % 8 / 4);
                }
            }
        }
        int accumulators = q6 ? 4 : 8;
        a.bind(rowLoop);
        a.test(RDX);
        a.jz(done);
        for (int acc = 0; acc < accumulators; acc++) {
            a.vpxordZ(acc, acc, acc);
        }
        a.mov(RAX, RDI);
        a.mov(RBX, R8);
        a.mov(RBP, RCX);
        a.shl(RBP, 6);
        a.add(RBP, R8);                         // scales: pair + 64 · blocks
        a.movLoad(R12, RSP, args + 16);         // the pair factors
        a.mov(R11, RCX);
        a.shr64(R11, 3);
        a.bind(superLoop);
        for (int s = 0; s < 8; s++) {
            int x = 64 * s;
            a.vbroadcasti64x4Z(8, RAX, 32 * s);                 // the block's codes, in both halves
            if (q6) {
                a.vmovdqu32Z(12, RSP, -1, 64 * s);
                a.vpermpsZ(11, 12, RAX, 256);                   // ds[2s + l/4]
            } else {
                a.vbroadcastssZ(11, RAX, 256 + 4 * s);          // ds[s]
                a.vbroadcastssZ(12, RAX, 288 + 4 * s);          // dm8[s]
            }
            for (int p = 0; p < 4; p++) {
                if (q6) {
                    a.vmovdqu32Z(9, R12, index[p], x);          // −32 · Σ xq of each lane: the integer sum starts there
                } else {
                    a.vpxordZ(9, 9, 9);
                }
                a.vpdpbusdZ(9, 8, RBX, index[p], x);
                a.vcvtdq2psZ(9, 9);
                if (q6) {
                    a.vmulpsZ(10, 11, RBP, index[p], x);        // ds · dx
                    a.vfmadd231psZ(p, 9, 10);
                } else {
                    a.vmovdqu32Z(14, RBP, index[p], x);         // dx, loaded once for both products
                    a.vmulpsZReg(10, 11, 14);                   // ds · dx
                    a.vfmadd231psZ(p, 9, 10);
                    a.vmulpsZReg(13, 12, 14);                   // dm8 · dx
                    a.vfmadd231psZMem(4 + p, 13, R12, index[p], x);  // times −float(8 · Σ xq)
                }
            }
        }
        a.addImm(RAX, PREPARED_SUPER);
        a.addImm(RBX, 512);
        a.addImm(RBP, 512);
        a.addImm(R12, 512);
        a.dec(R11);
        a.jnz(superLoop);
        a.movLoad(R11, RSP, args + 8);          // outStride
        a.mov(R10, R9);
        for (int p = 0; p < 4; p++) {
            if (!q6) {
                a.vaddpsZ(p, p, 4 + p);         // a[l] + b[l]
            }
            a.mov(RAX, R10);
            a.add(RAX, R11);                    // the pair's second vector
            a.vextractf64x4Z(12, p, 1);         // the high half first: VEX operations on p clear it
            IntDot.sumLanesAndStore(a, p, 13, R10, 0);
            IntDot.sumLanesAndStore(a, 12, 13, RAX, 0);
            a.add(R10, R11);
            a.add(R10, R11);
        }
        a.addImm(R9, 4);
        a.add(RDI, RSI);
        a.dec(RDX);
        a.jmp(rowLoop);
        a.bind(done);
        a.addImm(RSP, WIDE_FRAME);
        a.popCalleeSavedAndReturn();
        return a.bytes();
    }
}
