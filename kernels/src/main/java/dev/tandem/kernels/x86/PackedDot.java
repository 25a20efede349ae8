package dev.tandem.kernels.x86;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static dev.tandem.kernels.x86.Asm.*;

/**
 * Q8_0, Q4_0, Q4_K and Q6_K products over weights repacked so that one 512-bit register holds 16 rows
 * (AVX-512 VNNI): each 32-bit lane is one row, so a {@code vpdpbusd} against four activation bytes
 * broadcast to all lanes adds four products to each of 16 rows, and a block's integer sum ends in
 * its lane whole — no horizontal sums, and the float work (convert, scale, FMA) is done once per
 * block for 16 rows, not once per 4 products as in {@link IntDot}'s row-major kernels.
 *
 * <p>Packed layout ({@code dev.tandem.kernels.IntKernels.Packed}): rows in groups of 16 (the last padded
 * with zero weights); a group is its units in order, each {@link Kind#unitBytes} bytes. A Q8_0 / Q4_0
 * unit is one block: the 16 rows' scales as halves (32 bytes), then chunks of 64 bytes, 4 bytes of
 * each of the 16 rows in row order.
 * Q8_0: 8 chunks, chunk c holds elements {@code 4c..4c+3} as unsigned bytes {@code w XOR 0x80 = w + 128}.
 * Q4_0: 4 chunks, chunk c holds the file's bytes {@code 4c..4c+3} of the block: low nibbles elements
 * {@code 4c..4c+3}, high nibbles elements {@code 16+4c..16+4c+3}, each {@code w + 8}.
 * A Q4_K / Q6_K unit is a super-block of 256 columns (8 activation blocks), laid out as {@link Kind} says.
 *
 * <p>Activations: {@code Q8Activations}' block-major layout, 64 bytes per vector and block: 32
 * quantized bytes, the float scale {@code dx} at 32, {@code −8 · Σq} at 36, {@code −128 · Σq} at 40,
 * {@code dx · float(−Σq)} at 44 (Q4_K's mins), {@code −32 · Σq} of elements 0-15 at 48 and of 16-31 at 52 (Q6_K).
 *
 * <p>Per output row and vector, exactly these operations (the Java twin is
 * {@code IntKernels.packedRowReference}): {@code acc = 0}; per block in order,
 * {@code isum} = the exact integer sum of the block's 32 products (the integer accumulator starts at
 * the offset term, which takes off the weights' +128 / +8 exactly), {@code s = dw · dx} (float),
 * {@code acc = fma(float(isum), s, acc)}; the result is {@code acc}. Integer sums are exact in any
 * order, so how many vectors a call takes never changes a result: batch invariance. The K-quants
 * take two steps per block: Q4_K {@code acc = fma(float(isum), ds · dx, acc)} with {@code ds = d · sc}
 * (exact), then {@code acc = fma(dm, dx · float(−Σxq), acc)} with {@code dm = dmin · m} (exact); Q6_K
 * one step per 16-column half with its own {@code ds = d · scale} (exact) and exact integer sum of
 * {@code (q − 32) · xq}, first half first.
 *
 * <p>Signature of each kernel: {@code (long w, long groups, long units, long act, long actStride,
 * long out, long outStride)}: {@code groups} consecutive groups from {@code w}, {@code units} units each; vector t's block k at
 * {@code act + k · actStride + 64t}; group g, vector t to the 16 floats at {@code out + t · outStride + 64g}.
 */
public final class PackedDot {
    /** Rows of a group: the lanes of a 512-bit register. */
    public static final int GROUP = 16;
    /** Most vectors one call takes (accumulators in zmm16-31). */
    public static final int MAX_VECTORS = 8;
    /** Bytes of the activation's block-major entry for one vector and block. */
    public static final int ACT_ENTRY = 64;
    private static final FunctionDescriptor SIGNATURE = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG);

    /**
     * The packed formats. A unit is what one pass of a kernel's block loop reads for a group of 16 rows:
     * <ul>
     *   <li>Q8_0, Q4_0: one block of 32 columns, described in the class comment.</li>
     *   <li>Q4_K: one super-block of 256 columns: {@code d} and {@code dmin} as 16 floats each (0, 64), the
     *       6-bit scales of sub-blocks 0-7 as 16 bytes each (128 + 16s), their mins (256 + 16s), then per pair
     *       of sub-blocks 8 chunks of 64 bytes (384 + 512p + 64c): the file's bytes {@code 4c..4c+3} of the
     *       pair's 32, low nibbles sub-block 2p, high nibbles 2p+1 (elements 4c..4c+3 of each).</li>
     *   <li>Q6_K: one super-block: {@code d} as 16 floats (0), the 16 signed scales of each 16-column group as
     *       16 bytes (64 + 16g), then per block of 32 columns 8 chunks of 64 bytes (320 + 512j + 64c), the
     *       6-bit weights {@code q} (0-63, weight {@code q − 32}) of elements 4c..4c+3 as bytes.</li>
     * </ul>
     */
    public enum Kind {
        Q8_0(32 + 512, 1), Q4_0(32 + 256, 1), Q4_K(384 + 2048, 8), Q6_K(320 + 4096, 8);

        /** Bytes of one group's unit. */
        public final int unitBytes;
        /** Activation blocks (of 32 columns) per unit. */
        public final int blocksPerUnit;

        Kind(int unitBytes, int blocksPerUnit) {
            this.unitBytes = unitBytes;
            this.blocksPerUnit = blocksPerUnit;
        }
    }

    /** Why the packed kernels cannot run here, or null when they can. */
    public static final String UNAVAILABLE;
    /** [kind][vectors - 1]. */
    private static final MethodHandle[][] KERNELS = new MethodHandle[Kind.values().length][MAX_VECTORS];

    static {
        Cpu cpu = Cpu.THIS;
        String why = null;
        if (Boolean.getBoolean("tandem.kernels.noPacked")) {
            why = "disabled by -Dtandem.kernels.noPacked";
        } else if (!cpu.nativeKernels() || !cpu.avx512Vnni()) {
            why = "packed kernels need x86-64 Linux with AVX-512 VNNI (this CPU: " + cpu + ")";
        } else {
            try {
                for (Kind kind : Kind.values()) {
                    for (int n = 1; n <= MAX_VECTORS; n++) {
                        KERNELS[kind.ordinal()][n - 1] = NativeCode.load(kernel(kind, n), SIGNATURE);
                    }
                }
            } catch (RuntimeException e) {
                why = "packed kernels could not be loaded: " + e.getMessage();
            }
        }
        UNAVAILABLE = why;
    }

    private PackedDot() {}

    /** Whether the packed kernels run on this machine. */
    public static boolean available() {
        return UNAVAILABLE == null;
    }

    /**
     * {@code groups} groups from {@code w} times {@code vectors} (1 to {@link #MAX_VECTORS}) vectors of
     * {@code blocks} activation blocks; see the class comment.
     */
    public static void multiply(Kind kind, int vectors, long w, int groups, int blocks, long act, long actStride,
                                long out, long outStride) {
        try {
            KERNELS[kind.ordinal()][vectors - 1].invokeExact(w, (long) groups, (long) (blocks / kind.blocksPerUnit), act, actStride,
                    out, outStride);
        } catch (Throwable t) {
            throw NativeCode.rethrow(t);
        }
    }

    /**
     * The kernel for {@code n} vectors. Arguments: rdi = w, rsi = groups, rdx = blocks, rcx = act, r8 =
     * actStride, r9 = out; outStride on the stack. Registers: r10 units left, r11 the activations'
     * block pointer, rbx outStride, r12 an output pointer; zmm16+t vector t's float accumulators,
     * zmm24+t its integer sum, zmm0 a chunk of weights (Q4_0: zmm1 / zmm2 its low / high nibbles,
     * zmm3 the mask 0x0F), zmm4 the 16 rows' scales, zmm5 / zmm6 the converted sum and {@code dw · dx}.
     * The K-quants' registers are on {@link #q4K} and {@link #q6K}.
     */
    static byte[] kernel(Kind kind, int n) {
        boolean q4 = kind == Kind.Q4_0;
        int unit = kind.unitBytes;
        int prefetch = IntDot.PREFETCH;
        Asm a = new Asm();
        int groupLoop = a.newLabel(), blockLoop = a.newLabel(), done = a.newLabel();
        a.pushCalleeSaved();
        a.movLoad(RBX, RSP, 56);                // the 7th argument, after six pushes and the return address
        if (kind != Kind.Q8_0 && kind != Kind.Q6_K) {
            a.movImm32(RAX, 0x0F0F0F0F);
            a.vpbroadcastdZGpr(3, RAX);
        }
        a.bind(groupLoop);
        a.test(RSI);
        a.jz(done);
        for (int t = 0; t < n; t++) {
            a.vpxordZ(16 + t, 16 + t, 16 + t);
        }
        a.mov(R10, RDX);
        a.mov(R11, RCX);
        a.bind(blockLoop);
        for (int line = 0; line < unit; line += 64) {
            a.prefetcht0(RDI, prefetch + line);
        }
        if (kind == Kind.Q4_K) {
            q4K(a, n);
        } else if (kind == Kind.Q6_K) {
            q6K(a, n);
        } else {
            block(a, q4, n);
        }
        a.addImm(RDI, unit);
        a.dec(R10);
        a.jnz(blockLoop);
        a.mov(R12, R9);
        for (int t = 0; t < n; t++) {
            a.vmovupsZStore(R12, 0, 16 + t);
            a.add(R12, RBX);
        }
        a.addImm(R9, 64);
        a.dec(RSI);
        a.jmp(groupLoop);
        a.bind(done);
        a.popCalleeSavedAndReturn();
        return a.bytes();
    }

    /** One Q8_0 / Q4_0 block of a group (rdi) against block r11 of n vectors; advances r11. */
    private static void block(Asm a, boolean q4, int n) {
        a.vcvtph2psZ(4, RDI, 0);
        for (int t = 0; t < n; t++) {
            a.vpbroadcastdZ(24 + t, R11, ACT_ENTRY * t + (q4 ? 36 : 40));  // the sum starts at the offset term
        }
        if (q4) {
            for (int c = 0; c < 4; c++) {
                a.vmovdqu32Z(0, RDI, -1, 32 + 64 * c);
                a.vpanddZ(1, 0, 3);
                a.vpsrlwZ(2, 0, 4);
                a.vpanddZ(2, 2, 3);
                for (int t = 0; t < n; t++) {
                    a.vpdpbusdZBroadcast(24 + t, 1, R11, ACT_ENTRY * t + 4 * c);
                    a.vpdpbusdZBroadcast(24 + t, 2, R11, ACT_ENTRY * t + 16 + 4 * c);
                }
            }
        } else {
            for (int c = 0; c < 8; c++) {
                a.vmovdqu32Z(0, RDI, -1, 32 + 64 * c);
                for (int t = 0; t < n; t++) {
                    a.vpdpbusdZBroadcast(24 + t, 0, R11, ACT_ENTRY * t + 4 * c);
                }
            }
        }
        for (int t = 0; t < n; t++) {
            a.vcvtdq2psZ(5, 24 + t);
            a.vmulpsZBroadcast(6, 4, R11, ACT_ENTRY * t + 32);   // dw · dx
            a.vfmadd231psZ(16 + t, 5, 6);
        }
        a.add(R11, R8);
    }

    /**
     * One Q4_K super-block of a group (rdi) against 8 blocks of n vectors from r11; advances r11.
     * zmm4 = ds = d · sc and zmm7 = dm = dmin · m of the sub-block's 16 rows.
     */
    private static void q4K(Asm a, int n) {
        for (int s = 0; s < 8; s++) {
            for (int t = 0; t < n; t++) {
                a.vpxordZ(24 + t, 24 + t, 24 + t);
            }
            for (int c = 0; c < 8; c++) {
                a.vmovdqu32Z(0, RDI, -1, 384 + 512 * (s / 2) + 64 * c);
                if (s % 2 == 1) {
                    a.vpsrlwZ(0, 0, 4);
                }
                a.vpanddZ(1, 0, 3);
                for (int t = 0; t < n; t++) {
                    a.vpdpbusdZBroadcast(24 + t, 1, R11, ACT_ENTRY * t + 4 * c);
                }
            }
            a.vpmovzxbdZ(4, RDI, 128 + 16 * s);
            a.vcvtdq2psZ(4, 4);
            a.vmulpsZ(4, 4, RDI, -1, 0);                        // ds = d · sc, exact
            a.vpmovzxbdZ(7, RDI, 256 + 16 * s);
            a.vcvtdq2psZ(7, 7);
            a.vmulpsZ(7, 7, RDI, -1, 64);                       // dm = dmin · m, exact
            for (int t = 0; t < n; t++) {
                a.vcvtdq2psZ(5, 24 + t);
                a.vmulpsZBroadcast(6, 4, R11, ACT_ENTRY * t + 32);   // ds · dx
                a.vfmadd231psZ(16 + t, 5, 6);
                a.vfmadd231psZBroadcast(16 + t, 7, R11, ACT_ENTRY * t + 44);   // + dm · (dx · −Σxq)
            }
            a.add(R11, R8);
        }
    }

    /**
     * One Q6_K super-block of a group (rdi) against 8 blocks of n vectors from r11; advances r11.
     * zmm24+t / zmm8+t the integer sums of the block's two 16-column halves, starting at −32 · Σxq of
     * the half (which takes off the weights' offset); zmm4 / zmm7 the halves' ds = d · scale.
     */
    private static void q6K(Asm a, int n) {
        for (int j = 0; j < 8; j++) {
            for (int t = 0; t < n; t++) {
                a.vpbroadcastdZ(24 + t, R11, ACT_ENTRY * t + 48);
                a.vpbroadcastdZ(8 + t, R11, ACT_ENTRY * t + 52);
            }
            for (int c = 0; c < 8; c++) {
                a.vmovdqu32Z(0, RDI, -1, 320 + 512 * j + 64 * c);
                for (int t = 0; t < n; t++) {
                    a.vpdpbusdZBroadcast(c < 4 ? 24 + t : 8 + t, 0, R11, ACT_ENTRY * t + 4 * c);
                }
            }
            a.vpmovsxbdZ(4, RDI, 64 + 16 * (2 * j));
            a.vcvtdq2psZ(4, 4);
            a.vmulpsZ(4, 4, RDI, -1, 0);                        // d · scale, exact
            a.vpmovsxbdZ(7, RDI, 64 + 16 * (2 * j + 1));
            a.vcvtdq2psZ(7, 7);
            a.vmulpsZ(7, 7, RDI, -1, 0);
            for (int t = 0; t < n; t++) {
                a.vcvtdq2psZ(5, 24 + t);
                a.vmulpsZBroadcast(6, 4, R11, ACT_ENTRY * t + 32);
                a.vfmadd231psZ(16 + t, 5, 6);
                a.vcvtdq2psZ(5, 8 + t);
                a.vmulpsZBroadcast(6, 7, R11, ACT_ENTRY * t + 32);
                a.vfmadd231psZ(16 + t, 5, 6);
            }
            a.add(R11, R8);
        }
    }
}
