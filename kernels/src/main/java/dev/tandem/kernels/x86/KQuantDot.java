package dev.tandem.kernels.x86;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static dev.tandem.kernels.x86.Asm.*;

/**
 * Native matrix-vector kernels for Q4_K and Q6_K weights (super-blocks of 256) against activations
 * quantized to 8-bit blocks of 32 ({@code dev.tandem.kernels.Q8Activations}), generated at start-up
 * with {@link Asm} like {@link IntDot}'s: AVX2 + FMA + F16C, AVX-VNNI's {@code vpdpbusd} where the
 * processor has it ({@code vpmaddubsw} + {@code vpmaddwd} otherwise: the same integers, since the
 * unsigned weight codes are at most 63 and the activations at least -127, no pair of products
 * reaches 16-bit saturation). The 8 activation blocks of a super-block are unrolled; the super-block's
 * scales are decoded once into a small stack table, the 6-bit Q4_K ones with general-purpose
 * instructions (llama.cpp's 32-bit mask trick), so every byte value decodes as {@code Q4_K.scale/min} do.
 *
 * <p>Per output row, exactly these operations (the Java twin is {@code KQuantInt.rowReference}):
 * 8 float lanes {@code a[l]} (and for Q4_K a second set {@code b[l]}) start at 0; per 32-block
 * {@code k} with activation scale {@code dx}, lane {@code l} covering elements {@code 4l..4l+3}:
 * <ul>
 *   <li>Q4_K, sub-block {@code s} of its super-block, {@code ds = d · float(sc[s])} (the float
 *       product dequantization uses), {@code dm8 = (dmin · 0.125) · float(m[s])} (that is
 *       {@code dmin · m / 8} exactly: scaling by a power of two does not change a rounding, and a
 *       half's scale cannot underflow): {@code isum[l] = Σ q · xq} (q = 0..15), {@code x8[l] = 8 · Σ xq}
 *       (the stored lane sum is −x8, converted straight from memory and used as the negated factor);
 *       {@code a[l] = fma(float(isum[l]), ds · dx, a[l])}, {@code b[l] = fma(-float(x8[l]), dm8 · dx, b[l])};
 *       at the end {@code a[l] = a[l] + b[l]}. Two chains, so the two fused multiply-adds of a block
 *       do not wait for each other.</li>
 *   <li>Q6_K, block {@code j} of its super-block: {@code isum[l] = Σ q · xq − 32 · Σ xq} (q = 0..63,
 *       so {@code Σ (q − 32) · xq}, exact; {@code −32 · Σ xq} is the stored lane sum (−8 · Σ xq) shifted left by 2, added),
 *       {@code ds[l] = d · float(scales[2j + l / 4])}, {@code a[l] = fma(float(isum[l]), ds[l] · dx, a[l])}.</li>
 * </ul>
 * then IntDot's horizontal sum: {@code s[i] = a[i] + a[i+4]}, result {@code (s0 + s2) + (s1 + s3)}.
 *
 * <p>Signature: {@code (long w, long rowBytes, long rows, long blocks, long act, long out)} as
 * {@link IntDot}'s; {@code blocks} counts blocks of 32 and must be a positive multiple of 8.
 */
public final class KQuantDot {
    private static final FunctionDescriptor SIGNATURE = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);

    /** Why the kernels cannot run here, or null when they can. */
    public static final String UNAVAILABLE;
    private static final MethodHandle Q4_K, Q6_K;

    /** Stack frame: the super-block's scale table, Q6_K's permutation indices, the row's starting pointers. */
    private static final int TABLE = 0, INDICES = 64, ACT = 192, DX = 200, SUMS = 208, SUPERBLOCKS = 216, FRAME = 224;

    static {
        Cpu cpu = Cpu.THIS;
        String why = null;
        MethodHandle q4 = null, q6 = null;
        if (!cpu.nativeKernels()) {
            why = "native integer kernels need x86-64 Linux with AVX2, FMA and F16C (this CPU: " + cpu + ")";
        } else {
            try {
                q4 = NativeCode.load(kernel(false, cpu.avxVnni()), SIGNATURE);
                q6 = NativeCode.load(kernel(true, cpu.avxVnni()), SIGNATURE);
            } catch (RuntimeException e) {
                why = "native K-quant kernels could not be loaded: " + e.getMessage();
            }
        }
        UNAVAILABLE = why;
        Q4_K = q4;
        Q6_K = q6;
    }

    private KQuantDot() {}

    /** Q4_K rows starting at address {@code w} against the activations at {@code act}; floats to {@code out}. */
    public static void q4_K(long w, long rowBytes, int rows, int blocks, long act, long out) {
        call(Q4_K, w, rowBytes, rows, blocks, act, out);
    }

    /** Q6_K rows, as {@link #q4_K}. */
    public static void q6_K(long w, long rowBytes, int rows, int blocks, long act, long out) {
        call(Q6_K, w, rowBytes, rows, blocks, act, out);
    }

    /**
     * A kernel built for the given instruction choice, whatever this processor prefers (tests compare
     * the two; only call the VNNI one where {@link Cpu#avxVnni} holds).
     */
    public static MethodHandle load(boolean q6, boolean vnni) {
        return NativeCode.load(kernel(q6, vnni), SIGNATURE);
    }

    private static void call(MethodHandle h, long w, long rowBytes, int rows, int blocks, long act, long out) {
        if (blocks <= 0 || blocks % 8 != 0) {
            throw new IllegalArgumentException(blocks + " blocks of 32 is not a positive number of super-blocks");
        }
        try {
            h.invokeExact(w, rowBytes, (long) rows, (long) blocks, act, out);
        } catch (Throwable t) {
            throw NativeCode.rethrow(t);
        }
    }

    /**
     * The kernel. Arguments (System V): rdi = w, rsi = rowBytes, rdx = rows, rcx = blocks, r8 = act, r9 = out.
     * Per row: rax super-block pointer, rbx quants, rbp activation scales, r12 lane sums (all three
     * activation pointers advance by 32 per block), r11 super-blocks left; rcx, r8, r10, r13..r15
     * are scratch for the scale decoding. Vector registers: ymm0 accumulator a (ymm9 b for Q4_K),
     * ymm11 16-bit ones, ymm12..14 Q6_K's masks of the high bits (0x0C, 0x03, 0x30) or Q4_K's 0.125 (ymm14),
     * ymm15 the nibble mask.
     */
    static byte[] kernel(boolean q6, boolean vnni) {
        int superBytes = q6 ? 210 : 144;
        Asm a = new Asm();
        int rowLoop = a.newLabel(), superLoop = a.newLabel(), done = a.newLabel();
        a.pushCalleeSaved();
        a.addImm(RSP, -FRAME);
        a.mov(R13, RCX);
        a.shl(R13, 5);                      // 32 · blocks
        a.mov(R14, R8);
        a.add(R14, R13);                    // scales
        a.mov(R15, R14);
        a.add(R15, R13);                    // lane sums ×8
        a.shr64(RCX, 3);                    // super-blocks
        a.movStore(RSP, ACT, R8);
        a.movStore(RSP, DX, R14);
        a.movStore(RSP, SUMS, R15);
        a.movStore(RSP, SUPERBLOCKS, RCX);
        broadcastBytes(a, 15, 0x0F);
        a.movImm32(R10, 0x00010001);
        a.vmovd(11, R10);
        a.vpbroadcastd(11, 11);             // sixteen 16-bit ones
        if (!q6) {
            a.movImm32(R10, Float.floatToRawIntBits(0.125f));
            a.vmovd(14, R10);
            a.vpbroadcastd(14, 14);
        } else {
            broadcastBytes(a, 12, 0x0C);
            broadcastBytes(a, 13, 0x03);
            broadcastBytes(a, 14, 0x30);
            for (int g = 0; g < 4; g++) {   // block g of a half: lanes 0-3 take scale 2g, lanes 4-7 scale 2g + 1
                for (int l = 0; l < 8; l++) {
                    a.movStoreImm32(RSP, INDICES + 32 * g + 4 * l, 2 * g + l / 4);
                }
            }
        }
        a.bind(rowLoop);
        a.test(RDX);
        a.jz(done);
        a.vxorps(0, 0, 0);
        a.vxorps(9, 9, 9);
        a.mov(RAX, RDI);
        a.movLoad(RBX, RSP, ACT);
        a.movLoad(RBP, RSP, DX);
        a.movLoad(R12, RSP, SUMS);
        a.movLoad(R11, RSP, SUPERBLOCKS);
        a.bind(superLoop);
        for (int p = 0; p < superBytes; p += 64) {
            a.prefetcht0(RAX, IntDot.PREFETCH + p);
        }
        if (q6) {
            q6Super(a, vnni);
        } else {
            q4Super(a, vnni);
        }
        a.addImm(RAX, superBytes);
        a.addImm(RBX, 256);
        a.addImm(RBP, 256);
        a.addImm(R12, 256);
        a.dec(R11);
        a.jnz(superLoop);
        if (!q6) {
            a.vaddps(0, 0, 9);                  // a[l] + b[l]
        }
        IntDot.sumLanesAndStore(a, 0, 1, R9, 0);
        a.addImm(R9, 4);
        a.add(RDI, RSI);
        a.dec(RDX);
        a.jmp(rowLoop);
        a.bind(done);
        a.addImm(RSP, FRAME);
        a.popCalleeSavedAndReturn();
        return a.bytes();
    }

    static void broadcastBytes(Asm a, int ymm, int b) {
        a.movImm32(R10, b * 0x01010101);
        a.vmovd(ymm, R10);
        a.vpbroadcastd(ymm, ymm);
    }

    /** ymm4 = the 8 exact lane sums of the 32 unsigned weight codes in ymm1 times the activation bytes of block s. */
    private static void dot(Asm a, boolean vnni, int s) {
        if (vnni) {
            a.vpxor(4, 4, 4);
            a.vpdpbusdMem(4, 1, RBX, 32 * s);
        } else {
            a.vpmaddubswMem(4, 1, RBX, 32 * s);
            a.vpmaddwd(4, 4, 11);
        }
    }

    /**
     * The scales of the Q4_K super-block at rax (d at 0, dmin at 2, 12 scale bytes at 4, 128 code bytes
     * at 16) as floats: ymm1 = {@code ds[s] = d · float(sc[s])}, ymm2 = {@code dm8[s] = (dmin · 0.125) · float(m[s])}
     * (ymm14 must hold 0.125). The scales as two 64-bit words: lo = bytes 4..11 & 0x3F.. (scales 0-3,
     * mins 0-3), hi = low 32 bits (bytes 12..15 & 0x0F..) | top two bits of bytes 4..7 at bits 4-5
     * (scales 4-7), high 32 bits (bytes 12..15 >> 4 & 0x0F..) | top two bits of bytes 8..11 (mins 4-7).
     * Clobbers r10, r13..r15, {@code scratch} and ymm5..6 (shared with {@link KQuantTile}'s preparation).
     */
    static void q4Scales(Asm a, int scratch) {
        a.movLoad(R10, RAX, 4);                 // bytes 4..11
        a.movLoad32(R13, RAX, 12);              // bytes 12..15
        a.mov(R14, R10);
        a.shr64(R14, 6);
        a.movImm64(R15, 0x0303030303030303L);
        a.and64(R14, R15);
        a.shl(R14, 4);                          // top two bits of bytes 4..11, at bits 4-5 of each byte
        a.movImm64(R15, 0x3F3F3F3F3F3F3F3FL);
        a.and64(R10, R15);                      // lo
        a.mov(scratch, R13);
        a.shr64(scratch, 4);
        a.shl(scratch, 32);
        a.or64(R13, scratch);
        a.movImm64(R15, 0x0F0F0F0F0F0F0F0FL);
        a.and64(R13, R15);
        a.or64(R13, R14);                       // hi
        a.vmovqFromGpr(1, R10);
        a.vmovqFromGpr(2, R13);
        a.vpunpckldq128(1, 1, 2);               // bytes: scales 0..7, mins 0..7
        a.vpshufd128(2, 1, 0x0E);
        a.vpmovzxbd(1, 1);
        a.vpmovzxbd(2, 2);
        a.vcvtdq2ps(1, 1);
        a.vcvtdq2ps(2, 2);
        a.vpbroadcastwMem(5, RAX, 0);
        a.vcvtph2ps(5, 5);                      // d
        a.vpbroadcastwMem(6, RAX, 2);
        a.vcvtph2ps(6, 6);
        a.vmulps(6, 6, 14);                     // dmin / 8
        a.vmulps(1, 1, 5);
        a.vmulps(2, 2, 6);
    }

    /** One Q4_K super-block at rax. */
    private static void q4Super(Asm a, boolean vnni) {
        q4Scales(a, R8);
        a.vmovupsStore(RSP, TABLE, 1);          // ds[s]
        a.vmovupsStore(RSP, TABLE + 32, 2);     // dm[s] / 8
        for (int s = 0; s < 8; s++) {
            if (s % 2 == 0) {
                a.vmovdquLoad(true, 7, RAX, 16 + 16 * s);   // 32 bytes: sub-block s (low nibbles), s + 1 (high)
                a.vpand(1, 7, 15);
            } else {
                a.vpsrlw256(1, 7, 4);
                a.vpand(1, 1, 15);
            }
            dot(a, vnni, s);
            a.vcvtdq2ps(4, 4);
            a.vcvtdq2psMem(3, R12, 32 * s);     // −8 · Σ xq of each lane (the stored lane sum)
            a.vbroadcastssMem(5, RSP, TABLE + 4 * s);
            a.vmulpsMem(5, 5, RBP, 32 * s);     // ds · dx
            a.vfmadd231ps(0, 4, 5);
            a.vbroadcastssMem(6, RSP, TABLE + 32 + 4 * s);
            a.vmulpsMem(6, 6, RBP, 32 * s);     // dm / 8 · dx
            a.vfmadd231ps(9, 3, 6);             // b += (−8 · Σ xq) · (dm / 8 · dx): fma(−float(8 · Σ xq), ...) exactly
        }
    }

    /** One Q6_K super-block (ql at 0, qh at 128, 16 signed scales at 192, d at 208): two halves of four blocks. */
    private static void q6Super(Asm a, boolean vnni) {
        q6Scales(a, TABLE);
        for (int h = 0; h < 2; h++) {
            q6Half(a, h);
            for (int g = 0; g < 4; g++) {
                int j = 4 * h + g;
                q6Codes(a, g);
                dot(a, vnni, j);
                a.vmovdquLoad(true, 3, R12, 32 * j);
                a.vpslld256(3, 3, 2);           // −32 · Σ xq of each lane
                a.vpaddd(4, 4, 3);
                a.vcvtdq2ps(4, 4);
                a.vmovdquLoad(true, 10, RSP, INDICES + 32 * g);
                a.vpermpsMem(5, 10, RSP, TABLE + 32 * h);
                a.vmulpsMem(5, 5, RBP, 32 * j);  // ds[l] · dx
                a.vfmadd231ps(0, 4, 5);
            }
        }
    }

    /**
     * {@code d · float(scales[i])} of the Q6_K super-block at rax for its 16 sub-scales, to the stack at
     * {@code table} (8 floats per half). Clobbers ymm1, ymm2, ymm5 (shared with {@link KQuantTile}'s preparation).
     */
    static void q6Scales(Asm a, int table) {
        a.vpmovsxbdMem(1, RAX, 192);
        a.vpmovsxbdMem(2, RAX, 200);
        a.vcvtdq2ps(1, 1);
        a.vcvtdq2ps(2, 2);
        a.vpbroadcastwMem(5, RAX, 208);
        a.vcvtph2ps(5, 5);                      // d
        a.vmulps(1, 1, 5);
        a.vmulps(2, 2, 5);
        a.vmovupsStore(RSP, table, 1);          // ds of half 0
        a.vmovupsStore(RSP, table + 32, 2);     // ds of half 1
    }

    /** Loads half {@code h} of the Q6_K super-block at rax: ymm6 its 32 qh bytes, ymm7 / ymm8 its 64 ql bytes. */
    static void q6Half(Asm a, int h) {
        a.vmovdquLoad(true, 6, RAX, 128 + 32 * h);      // qh
        a.vmovdquLoad(true, 7, RAX, 64 * h);            // ql, first 32
        a.vmovdquLoad(true, 8, RAX, 64 * h + 32);       // ql, second 32
    }

    /**
     * ymm1 = the 32 six-bit codes (0..63) of block {@code g} of the half loaded by {@link #q6Half}
     * (masks: ymm12 0x0C, ymm13 0x03, ymm14 0x30, ymm15 0x0F bytes). Clobbers ymm2.
     */
    static void q6Codes(Asm a, int g) {
        switch (g) {
            case 0 -> {
                a.vpand(1, 7, 15);
                a.vpand(2, 6, 13);
                a.vpsllw256(2, 2, 4);
            }
            case 1 -> {
                a.vpand(1, 8, 15);
                a.vpand(2, 6, 12);
                a.vpsllw256(2, 2, 2);
            }
            case 2 -> {
                a.vpsrlw256(1, 7, 4);
                a.vpand(1, 1, 15);
                a.vpand(2, 6, 14);
            }
            default -> {
                a.vpsrlw256(1, 8, 4);
                a.vpand(1, 1, 15);
                a.vpsrlw256(2, 6, 2);
                a.vpand(2, 2, 14);
            }
        }
        a.vpor(1, 1, 2);                        // the 6-bit codes, 0..63
    }
}
