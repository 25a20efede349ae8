package dev.tandem.kernels.x86;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static dev.tandem.kernels.x86.Asm.*;

/**
 * Q8_0 and Q4_0 products over weights repacked so that one 512-bit register holds 16 rows
 * (AVX-512 VNNI): each 32-bit lane is one row, so a {@code vpdpbusd} against four activation bytes
 * broadcast to all lanes adds four products to each of 16 rows, and a block's integer sum ends in
 * its lane whole — no horizontal sums, and the float work (convert, scale, FMA) is done once per
 * block for 16 rows, not once per 4 products as in {@link IntDot}'s row-major kernels.
 *
 * <p>Packed layout ({@code dev.tandem.kernels.IntKernels.Packed}): rows in groups of 16 (the last padded
 * with zero weights); a group is its blocks in order, each {@link #unitBytes} bytes: the 16 rows'
 * scales as halves (32 bytes), then chunks of 64 bytes, 4 bytes of each of the 16 rows in row order.
 * Q8_0: 8 chunks, chunk c holds elements {@code 4c..4c+3} as unsigned bytes {@code w XOR 0x80 = w + 128}.
 * Q4_0: 4 chunks, chunk c holds the file's bytes {@code 4c..4c+3} of the block: low nibbles elements
 * {@code 4c..4c+3}, high nibbles elements {@code 16+4c..16+4c+3}, each {@code w + 8}.
 *
 * <p>Activations: {@code Q8Activations}' block-major layout, 64 bytes per vector and block: 32
 * quantized bytes, the float scale {@code dx} at 32, {@code −8 · Σq} at 36, {@code −128 · Σq} at 40.
 *
 * <p>Per output row and vector, exactly these operations (the Java twin is
 * {@code IntKernels.packedRowReference}): {@code acc = 0}; per block in order,
 * {@code isum} = the exact integer sum of the block's 32 products (the integer accumulator starts at
 * the offset term, which takes off the weights' +128 / +8 exactly), {@code s = dw · dx} (float),
 * {@code acc = fma(float(isum), s, acc)}; the result is {@code acc}. Integer sums are exact in any
 * order, so how many vectors a call takes never changes a result: batch invariance.
 *
 * <p>Signature of each kernel: {@code (long w, long groups, long blocks, long act, long actStride,
 * long out, long outStride)}: {@code groups} consecutive groups from {@code w}; vector t's block k at
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

    /** Why the packed kernels cannot run here, or null when they can. */
    public static final String UNAVAILABLE;
    /** [q4 ? 1 : 0][vectors - 1]. */
    private static final MethodHandle[][] KERNELS = new MethodHandle[2][MAX_VECTORS];

    static {
        Cpu cpu = Cpu.THIS;
        String why = null;
        if (Boolean.getBoolean("tandem.kernels.noPacked")) {
            why = "disabled by -Dtandem.kernels.noPacked";
        } else if (!cpu.nativeKernels() || !cpu.avx512Vnni()) {
            why = "packed kernels need x86-64 Linux with AVX-512 VNNI (this CPU: " + cpu + ")";
        } else {
            try {
                for (int q = 0; q < 2; q++) {
                    for (int n = 1; n <= MAX_VECTORS; n++) {
                        KERNELS[q][n - 1] = NativeCode.load(kernel(q == 1, n), SIGNATURE);
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

    /** Bytes of one group's block: 32 of scales, then 512 (Q8_0) or 256 (Q4_0) of weights. */
    public static int unitBytes(boolean q4) {
        return q4 ? 32 + 256 : 32 + 512;
    }

    /** {@code groups} groups from {@code w} times {@code vectors} (1 to {@link #MAX_VECTORS}) vectors; see the class comment. */
    public static void multiply(boolean q4, int vectors, long w, int groups, int blocks, long act, long actStride,
                                long out, long outStride) {
        try {
            KERNELS[q4 ? 1 : 0][vectors - 1].invokeExact(w, (long) groups, (long) blocks, act, actStride, out, outStride);
        } catch (Throwable t) {
            throw NativeCode.rethrow(t);
        }
    }

    /**
     * The kernel for {@code n} vectors. Arguments: rdi = w, rsi = groups, rdx = blocks, rcx = act, r8 =
     * actStride, r9 = out; outStride on the stack. Registers: r10 blocks left, r11 the activations'
     * block pointer, rbx outStride, r12 an output pointer; zmm16+t vector t's float accumulators,
     * zmm24+t its integer sum, zmm0 a chunk of weights (Q4_0: zmm1 / zmm2 its low / high nibbles,
     * zmm3 the mask 0x0F), zmm4 the 16 rows' scales, zmm5 / zmm6 the converted sum and {@code dw · dx}.
     */
    static byte[] kernel(boolean q4, int n) {
        int unit = unitBytes(q4);
        int prefetch = IntDot.PREFETCH;
        Asm a = new Asm();
        int groupLoop = a.newLabel(), blockLoop = a.newLabel(), done = a.newLabel();
        a.pushCalleeSaved();
        a.movLoad(RBX, RSP, 56);                // the 7th argument, after six pushes and the return address
        if (q4) {
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
        a.addImm(RDI, unit);
        a.add(R11, R8);
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
}
