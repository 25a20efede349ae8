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
 * per super-block ({@code ds}, {@code dm8}, Q6_K's per-lane {@code ds[l]}), each product
 * {@code factor · dx} is formed per block and vector as there, the integer sums are exact in either
 * order, and the chains {@code a[l]} / {@code b[l]}, their final sum and the horizontal sum are the same.
 *
 * <p>The tile is one row × 4 vectors: Q4_K's two chains per element make 2 × 4 need 16 accumulators,
 * and with one row there are no leftover rows. AVX-VNNI only (like IntDot's tiles); elsewhere the
 * matrix-vector kernels serve every vector.
 *
 * <p>Prepared layout, per super-block of a row: the 8 blocks' 32 unsigned codes (256 bytes; Q4_K
 * 0..15, Q6_K 0..63), then Q4_K: {@code ds[0..7]}, {@code dm8[0..7]} (64 bytes, 320 in all); Q6_K:
 * per block the 8 lane factors {@code ds[l] = d · float(scales[2j + l/4])} (256 bytes, 512 in all).
 */
public final class KQuantTile {
    /** Vectors per tile call. */
    public static final int TILE_VECTORS = 4;
    private static final FunctionDescriptor PREPARE_SIGNATURE = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    private static final FunctionDescriptor TILE_SIGNATURE = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    private static final int Q4_SUPER = 320, Q6_SUPER = 512;
    /** Q6_K preparation's stack frame: the permutation indices, then the super-block's 16 sub-scale factors. */
    private static final int INDICES = 0, TABLE = 128, FRAME = 192;

    private static final MethodHandle PREPARE_Q4_K, PREPARE_Q6_K, TILE_Q4_K, TILE_Q6_K;

    static {
        MethodHandle p4 = null, p6 = null, t4 = null, t6 = null;
        if (KQuantDot.UNAVAILABLE == null && Cpu.THIS.avxVnni()) {
            try {
                p4 = NativeCode.load(prepare(false), PREPARE_SIGNATURE);
                p6 = NativeCode.load(prepare(true), PREPARE_SIGNATURE);
                t4 = NativeCode.load(tile(false), TILE_SIGNATURE);
                t6 = NativeCode.load(tile(true), TILE_SIGNATURE);
            } catch (RuntimeException e) {
                p4 = p6 = t4 = t6 = null;
            }
        }
        PREPARE_Q4_K = p4;
        PREPARE_Q6_K = p6;
        TILE_Q4_K = t4;
        TILE_Q6_K = t6;
    }

    private KQuantTile() {}

    /** Whether {@link #prepare} and {@link #tile} can run (native kernels with AVX-VNNI). */
    public static boolean available() {
        return TILE_Q6_K != null;
    }

    /** Bytes of one prepared row of {@code blocks} blocks of 32. */
    public static long preparedRowBytes(boolean q6, int blocks) {
        return (long) (blocks / 8) * (q6 ? Q6_SUPER : Q4_SUPER);
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
            throw rethrow(t);
        }
    }

    /**
     * {@code rows} {@link #prepare prepared} rows times the 4 quantized vectors at {@code act},
     * {@code act + actStride}, ...: row r, vector t to the float at {@code out + t · outStride + 4r}.
     */
    public static void tile(boolean q6, long prepared, int rows, int blocks, long act, long actStride, long out, long outStride) {
        check(blocks);
        try {
            (q6 ? TILE_Q6_K : TILE_Q4_K).invokeExact(prepared, preparedRowBytes(q6, blocks), (long) rows, (long) blocks,
                    act, out, actStride, outStride);
        } catch (Throwable t) {
            throw rethrow(t);
        }
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
            for (int g = 0; g < 4; g++) {   // block g of a half: lanes 0-3 take scale 2g, lanes 4-7 scale 2g + 1
                for (int l = 0; l < 8; l++) {
                    a.movStoreImm32(RSP, INDICES + 32 * g + 4 * l, 2 * g + l / 4);
                }
            }
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
            for (int h = 0; h < 2; h++) {
                KQuantDot.q6Half(a, h);
                for (int g = 0; g < 4; g++) {
                    int j = 4 * h + g;
                    KQuantDot.q6Codes(a, g);
                    a.vmovupsStore(R8, 32 * j, 1);
                    a.vmovdquLoad(true, 10, RSP, INDICES + 32 * g);
                    a.vpermpsMem(5, 10, RSP, TABLE + 32 * h);
                    a.vmovupsStore(R8, 256 + 32 * j, 5);     // ds[l] of block j
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
        a.addImm(R8, q6 ? Q6_SUPER : Q4_SUPER);
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
     * rdx = rows, rcx = blocks, r8 = act, r9 = out; on the stack actStride, outStride. Registers:
     * rax the prepared super-block, rbx / rbp / r12 quants / scales / lane sums (−8·Σ) of vector 0
     * (vector t at + t · actStride: r13, r14, r15 hold 1, 2, 3 strides), r11 super-blocks left;
     * ymm0-3 the accumulators a of the 4 vectors (Q4_K: ymm4-7 their b), ymm8 the block's codes,
     * Q4_K: ymm13 / ymm14 the broadcast {@code ds} / {@code dm8}; Q6_K: ymm13 the lane factors.
     * Q6_K's integer sum starts at −32·Σxq (the lane sum shifted left by 2): {@code Σ (q − 32)·xq}
     * exactly, as the matrix-vector kernel's sum-then-add.
     */
    static byte[] tile(boolean q6) {
        int superBytes = q6 ? Q6_SUPER : Q4_SUPER;
        Asm a = new Asm();
        int rowLoop = a.newLabel(), superLoop = a.newLabel(), done = a.newLabel();
        for (int r : new int[]{RBX, RBP, R12, R13, R14, R15}) {
            a.push(r);
        }
        a.movLoad(R13, RSP, 56);                // actStride (after six pushes and the return address)
        a.mov(R14, R13);
        a.add(R14, R13);
        a.mov(R15, R14);
        a.add(R15, R13);
        int[] index = {-1, R13, R14, R15};
        int accumulators = q6 ? 4 : 8;
        a.bind(rowLoop);
        a.test(RDX);
        a.jz(done);
        for (int acc = 0; acc < accumulators; acc++) {
            a.vxorps(acc, acc, acc);
        }
        a.mov(RAX, RDI);
        a.mov(RBX, R8);
        a.mov(RBP, RCX);
        a.shl(RBP, 5);
        a.add(RBP, R8);                         // scales: act + 32 · blocks
        a.mov(R12, RCX);
        a.shl(R12, 5);
        a.add(R12, RBP);                        // lane sums × −8
        a.mov(R11, RCX);
        a.shr64(R11, 3);
        a.bind(superLoop);
        for (int s = 0; s < 8; s++) {
            int x = 32 * s;
            a.vmovdquLoad(true, 8, RAX, 32 * s);                // the block's codes
            if (q6) {
                a.vmovdquLoad(true, 13, RAX, 256 + 32 * s);     // ds[l]
                for (int t = 0; t < TILE_VECTORS; t++) {
                    a.vmovdquLoad(9, R12, index[t], x);
                    a.vpslld256(9, 9, 2);                       // −32 · Σ xq of each lane
                    a.vpdpbusdMem(9, 8, RBX, index[t], x);
                    a.vcvtdq2ps(9, 9);
                    a.vmulpsMem(10, 13, RBP, index[t], x);      // ds[l] · dx
                    a.vfmadd231ps(t, 9, 10);
                }
            } else {
                a.vbroadcastssMem(13, RAX, 256 + 4 * s);        // ds
                a.vbroadcastssMem(14, RAX, 288 + 4 * s);        // dm8
                for (int t = 0; t < TILE_VECTORS; t++) {
                    a.vpxor(9, 9, 9);
                    a.vpdpbusdMem(9, 8, RBX, index[t], x);
                    a.vcvtdq2ps(9, 9);
                    a.vmulpsMem(10, 13, RBP, index[t], x);      // ds · dx
                    a.vfmadd231ps(t, 9, 10);
                    a.vcvtdq2psMem(11, R12, index[t], x);       // −8 · Σ xq of each lane
                    a.vmulpsMem(12, 14, RBP, index[t], x);      // dm8 · dx
                    a.vfmadd231ps(4 + t, 11, 12);
                }
            }
        }
        a.addImm(RAX, superBytes);
        a.addImm(RBX, 256);
        a.addImm(RBP, 256);
        a.addImm(R12, 256);
        a.dec(R11);
        a.jnz(superLoop);
        a.movLoad(R11, RSP, 64);                // outStride
        a.mov(R10, R9);
        for (int t = 0; t < TILE_VECTORS; t++) {
            if (!q6) {
                a.vaddps(t, t, 4 + t);          // a[l] + b[l]
            }
            a.vextractf128(12, t, 1);
            a.vaddps128(t, t, 12);              // s[i] = a[i] + a[i + 4]
            a.vmovhlps(12, t, t);
            a.vaddps128(t, t, 12);              // t0 = s0 + s2, t1 = s1 + s3
            a.vmovshdup(12, t);
            a.vaddss(t, t, 12);                 // t0 + t1
            a.vmovssStore(R10, 0, t);
            a.add(R10, R11);
        }
        a.addImm(R9, 4);
        a.add(RDI, RSI);
        a.dec(RDX);
        a.jmp(rowLoop);
        a.bind(done);
        a.vzeroupper();
        for (int r : new int[]{R15, R14, R13, R12, RBP, RBX}) {
            a.pop(r);
        }
        a.ret();
        return a.bytes();
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
