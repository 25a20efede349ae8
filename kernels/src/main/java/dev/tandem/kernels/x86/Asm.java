package dev.tandem.kernels.x86;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A small x86-64 assembler: the general-purpose and AVX2 / AVX-VNNI instructions the native
 * kernels use, encoded as the Intel SDM gives them (VEX always in its three-byte form). Memory
 * operands are {@code [base + disp]}: the kernels walk pointers and need no index registers.
 * Registers are numbers: 0..15 for {@code rax..r15} and for {@code xmm0..15 / ymm0..15}.
 */
final class Asm {
    static final int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7,
            R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;

    /** VEX opcode maps and implied prefixes. */
    private static final int M0F = 1, M0F38 = 2, M0F3A = 3;
    private static final int P_NONE = 0, P66 = 1, PF3 = 2;

    private final ByteArrayOutputStream code = new ByteArrayOutputStream();
    private final List<int[]> fixups = new ArrayList<>();   // {position of rel32, label}
    private final List<Integer> labels = new ArrayList<>();

    byte[] bytes() {
        byte[] b = code.toByteArray();
        for (int[] f : fixups) {
            int target = labels.get(f[1]);
            if (target < 0) {
                throw new IllegalStateException("label " + f[1] + " never bound");
            }
            int rel = target - (f[0] + 4);
            for (int i = 0; i < 4; i++) {
                b[f[0] + i] = (byte) (rel >> (8 * i));
            }
        }
        return b;
    }

    int newLabel() {
        labels.add(-1);
        return labels.size() - 1;
    }

    void bind(int label) {
        labels.set(label, code.size());
    }

    private void emit(int... bytes) {
        for (int b : bytes) {
            code.write(b);
        }
    }

    private void emit32(int v) {
        emit(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff);
    }

    /** ModRM (+ SIB + displacement) for register field {@code reg} and memory {@code [base + disp]}. */
    private void memory(int reg, int base, int disp) {
        int r = reg & 7, b = base & 7;
        int mod = disp == 0 && b != 5 ? 0 : disp >= -128 && disp <= 127 ? 1 : 2;
        emit(mod << 6 | r << 3 | b);
        if (b == 4) {
            emit(0x24);                                      // SIB: no index, base = rsp / r12
        }
        if (mod == 1) {
            emit(disp & 0xff);
        } else if (mod == 2) {
            emit32(disp);
        }
    }

    private void registers(int reg, int rm) {
        emit(0xC0 | (reg & 7) << 3 | (rm & 7));
    }

    /** Three-byte VEX prefix. {@code rm} is the register or base register in ModRM.rm. */
    private void vex(int map, int pp, boolean w, boolean l256, int reg, int vvvv, int rm) {
        vex(map, pp, w, l256, reg, vvvv, rm, 0);
    }

    /** Three-byte VEX prefix with an index register ({@code index} 0..15; 0 when there is none). */
    private void vex(int map, int pp, boolean w, boolean l256, int reg, int vvvv, int rm, int index) {
        int r = (reg & 8) == 0 ? 0x80 : 0, x = (index & 8) == 0 ? 0x40 : 0, b = (rm & 8) == 0 ? 0x20 : 0;
        emit(0xC4, r | x | b | map, (w ? 0x80 : 0) | (~vvvv & 15) << 3 | (l256 ? 4 : 0) | pp);
    }

    /** ModRM + SIB (+ displacement) for {@code [base + index + disp]}; {@code index} is not rsp. */
    private void memoryIndexed(int reg, int base, int index, int disp) {
        if ((index & 15) == RSP) {
            throw new IllegalArgumentException("rsp cannot be an index");
        }
        int b = base & 7;
        int mod = disp == 0 && b != 5 ? 0 : disp >= -128 && disp <= 127 ? 1 : 2;
        emit(mod << 6 | (reg & 7) << 3 | 4, (index & 7) << 3 | b);
        if (mod == 1) {
            emit(disp & 0xff);
        } else if (mod == 2) {
            emit32(disp);
        }
    }

    /** A VEX instruction with a memory operand {@code [base + index + disp]}; {@code index < 0} for none. */
    private void vexRMI(int map, int pp, boolean l256, int opcode, int dst, int src1, int base, int index, int disp) {
        if (index < 0) {
            vexRM(map, pp, l256, opcode, dst, src1, base, disp);
            return;
        }
        vex(map, pp, false, l256, dst, src1, base, index);
        emit(opcode);
        memoryIndexed(dst, base, index, disp);
    }

    private void vexRR(int map, int pp, boolean l256, int opcode, int dst, int src1, int src2) {
        vex(map, pp, false, l256, dst, src1, src2);
        emit(opcode);
        registers(dst, src2);
    }

    private void vexRM(int map, int pp, boolean l256, int opcode, int dst, int src1, int base, int disp) {
        vex(map, pp, false, l256, dst, src1, base);
        emit(opcode);
        memory(dst, base, disp);
    }

    // ---- general purpose ----

    private void rex(boolean w, int reg, int rm) {
        int rex = 0x40 | (w ? 8 : 0) | ((reg & 8) != 0 ? 4 : 0) | ((rm & 8) != 0 ? 1 : 0);
        if (rex != 0x40) {
            emit(rex);
        }
    }

    void push(int r) {
        rex(false, 0, r);
        emit(0x50 + (r & 7));
    }

    void pop(int r) {
        rex(false, 0, r);
        emit(0x58 + (r & 7));
    }

    /** {@code mov dst, src} (64-bit registers). */
    void mov(int dst, int src) {
        rex(true, src, dst);
        emit(0x89);
        registers(src, dst);
    }

    /** {@code mov dst, qword [base + disp]}. */
    void movLoad(int dst, int base, int disp) {
        rex(true, dst, base);
        emit(0x8B);
        memory(dst, base, disp);
    }

    /** {@code add dst, imm32} (64-bit). */
    void addImm(int dst, int imm) {
        rex(true, 0, dst);
        emit(0x81);
        registers(0, dst);
        emit32(imm);
    }

    /** {@code add dst, src} (64-bit). */
    void add(int dst, int src) {
        rex(true, src, dst);
        emit(0x01);
        registers(src, dst);
    }

    /** {@code shl r, imm8} (64-bit). */
    void shl(int r, int imm) {
        rex(true, 0, r);
        emit(0xC1);
        registers(4, r);
        emit(imm);
    }

    /** {@code shr r, imm8} (64-bit). */
    void shr(int r, int imm) {
        rex(true, 0, r);
        emit(0xC1);
        registers(5, r);
        emit(imm);
    }

    /** {@code test r, imm32} (64-bit). */
    void testImm(int r, int imm) {
        rex(true, 0, r);
        emit(0xF7);
        registers(0, r);
        emit32(imm);
    }

    /** {@code mov r32, imm32} (zero-extends into the 64-bit register). */
    void movImm32(int r, int imm) {
        rex(false, 0, r);
        emit(0xB8 + (r & 7));
        emit32(imm);
    }

    /** {@code dec r} (64-bit). */
    void dec(int r) {
        rex(true, 0, r);
        emit(0xFF);
        registers(1, r);
    }

    /** {@code test r, r} (64-bit). */
    void test(int r) {
        rex(true, r, r);
        emit(0x85);
        registers(r, r);
    }

    void jz(int label) {
        emit(0x0F, 0x84);
        fixups.add(new int[]{code.size(), label});
        emit32(0);
    }

    void jnz(int label) {
        emit(0x0F, 0x85);
        fixups.add(new int[]{code.size(), label});
        emit32(0);
    }

    void jmp(int label) {
        emit(0xE9);
        fixups.add(new int[]{code.size(), label});
        emit32(0);
    }

    void ret() {
        emit(0xC3);
    }

    /** The System V callee-saved registers the kernels use: rbx, rbp, r12-r15. */
    private static final int[] CALLEE_SAVED = {RBX, RBP, R12, R13, R14, R15};

    /** Pushes the callee-saved registers (six pushes: stack arguments move 48 bytes further). */
    void pushCalleeSaved() {
        for (int r : CALLEE_SAVED) {
            push(r);
        }
    }

    /** {@code vzeroupper}, pops what {@link #pushCalleeSaved} pushed, returns. */
    void popCalleeSavedAndReturn() {
        vzeroupper();
        for (int i = CALLEE_SAVED.length - 1; i >= 0; i--) {
            pop(CALLEE_SAVED[i]);
        }
        ret();
    }

    /** {@code prefetcht0 [base + disp]}. */
    void prefetcht0(int base, int disp) {
        rex(false, 0, base);
        emit(0x0F, 0x18);
        memory(1, base, disp);
    }

    // ---- AVX / AVX2 / FMA / F16C / AVX-VNNI ----

    /** {@code vmovdqu ymm, [base + disp]} (or xmm when {@code !ymm}). */
    void vmovdquLoad(boolean ymm, int dst, int base, int disp) {
        vexRM(M0F, PF3, ymm, 0x6F, dst, 0, base, disp);
    }

    /** {@code vmovdqa ymm dst, ymm src} (a register move: renaming, usually no execution unit). */
    void vmovdqa(int dst, int src) {
        vexRR(M0F, P66, true, 0x6F, dst, 0, src);
    }

    /** {@code vbroadcasti128 ymm dst, [base + disp]}: the 16 bytes into both halves (a load only). */
    void vbroadcasti128(int dst, int base, int disp) {
        vexRM(M0F38, P66, true, 0x5A, dst, 0, base, disp);
    }

    /** {@code vpsrlvd ymm dst, ymm a, ymm counts}: each dword shifted right by its own count. */
    void vpsrlvd(int dst, int a, int counts) {
        vexRR(M0F38, P66, true, 0x45, dst, a, counts);
    }

    /** {@code vpabsb ymm dst, ymm src}. */
    void vpabsb(int dst, int src) {
        vexRR(M0F38, P66, true, 0x1C, dst, 0, src);
    }

    /** {@code vpsignb ymm dst, ymm a, ymm b}: a with the signs of b (0 where b is 0). */
    void vpsignb(int dst, int a, int b) {
        vexRR(M0F38, P66, true, 0x08, dst, a, b);
    }

    /** AVX-VNNI {@code {vex} vpdpbusd ymm acc, ymm u8, [base + disp]}: each int lane += 4 u8 × s8 products. */
    void vpdpbusdMem(int acc, int u8, int base, int disp) {
        vexRM(M0F38, P66, true, 0x50, acc, u8, base, disp);
    }

    /** {@code vpmaddubsw ymm dst, ymm u8, ymm s8}: adjacent u8 × s8 products summed to 16 bits. */
    void vpmaddubsw(int dst, int u8, int s8) {
        vexRR(M0F38, P66, true, 0x04, dst, u8, s8);
    }

    /** {@code vpdpbusd ymm acc, ymm u8, [base + index]} ({@code index < 0}: none). */
    void vpdpbusdMem(int acc, int u8, int base, int index, int disp) {
        vexRMI(M0F38, P66, true, 0x50, acc, u8, base, index, disp);
    }

    /** {@code vpmaddubsw ymm dst, ymm u8, [base + index + disp]}. */
    void vpmaddubswMem(int dst, int u8, int base, int index, int disp) {
        vexRMI(M0F38, P66, true, 0x04, dst, u8, base, index, disp);
    }

    /** {@code vmulps ymm dst, ymm a, [base + index + disp]}. */
    void vmulpsMem(int dst, int a, int base, int index, int disp) {
        vexRMI(M0F, P_NONE, true, 0x59, dst, a, base, index, disp);
    }

    /** {@code vpmaddubsw ymm dst, ymm u8, [base + disp]}. */
    void vpmaddubswMem(int dst, int u8, int base, int disp) {
        vexRM(M0F38, P66, true, 0x04, dst, u8, base, disp);
    }

    /** {@code vpmaddwd ymm dst, ymm a, ymm b}: adjacent 16-bit products summed to 32 bits. */
    void vpmaddwd(int dst, int a, int b) {
        vexRR(M0F, P66, true, 0xF5, dst, a, b);
    }

    /** {@code vpaddd ymm dst, ymm a, [base + disp]}. */
    void vpadddMem(int dst, int a, int base, int disp) {
        vexRM(M0F, P66, true, 0xFE, dst, a, base, disp);
    }

    /** {@code vmovdqu ymm dst, [base + index + disp]} ({@code index < 0}: none). */
    void vmovdquLoad(int dst, int base, int index, int disp) {
        vexRMI(M0F, PF3, true, 0x6F, dst, 0, base, index, disp);
    }

    void vpaddd(int dst, int a, int b) {
        vexRR(M0F, P66, true, 0xFE, dst, a, b);
    }

    void vpxor(int dst, int a, int b) {
        vexRR(M0F, P66, true, 0xEF, dst, a, b);
    }

    void vpand(int dst, int a, int b) {
        vexRR(M0F, P66, true, 0xDB, dst, a, b);
    }

    /** {@code vinserti128 ymm dst, ymm a, xmm b, imm8}. */
    void vinserti128(int dst, int a, int b, int imm) {
        vex(M0F3A, P66, false, true, dst, a, b);
        emit(0x38);
        registers(dst, b);
        emit(imm);
    }

    /** {@code vmovd xmm dst, r32}. */
    void vmovd(int dst, int src) {
        vex(M0F, P66, false, false, dst, 0, src);
        emit(0x6E);
        registers(dst, src);
    }

    /** {@code vpbroadcastd ymm dst, xmm src}. */
    void vpbroadcastd(int dst, int src) {
        vexRR(M0F38, P66, true, 0x58, dst, 0, src);
    }

    /** {@code vpbroadcastw xmm dst, word [base + disp]}. */
    void vpbroadcastwMem(int dst, int base, int disp) {
        vexRM(M0F38, P66, false, 0x79, dst, 0, base, disp);
    }

    /** {@code vcvtph2ps ymm dst, xmm src}: eight halves to floats. */
    void vcvtph2ps(int dst, int src) {
        vexRR(M0F38, P66, true, 0x13, dst, 0, src);
    }

    void vcvtdq2ps(int dst, int src) {
        vexRR(M0F, P_NONE, true, 0x5B, dst, 0, src);
    }

    /** {@code vmulps ymm dst, ymm a, [base + disp]}. */
    void vmulpsMem(int dst, int a, int base, int disp) {
        vexRM(M0F, P_NONE, true, 0x59, dst, a, base, disp);
    }

    /** {@code vfmadd231ps ymm acc, ymm a, ymm b}: acc = a · b + acc, one rounding. */
    void vfmadd231ps(int acc, int a, int b) {
        vex(M0F38, P66, false, true, acc, a, b);
        emit(0xB8);
        registers(acc, b);
    }

    void vxorps(int dst, int a, int b) {
        vexRR(M0F, P_NONE, true, 0x57, dst, a, b);
    }

    /** {@code vextractf128 xmm dst, ymm src, imm8}. */
    void vextractf128(int dst, int src, int imm) {
        vex(M0F3A, P66, false, true, src, 0, dst);
        emit(0x19);
        registers(src, dst);
        emit(imm);
    }

    /** {@code vaddps xmm dst, xmm a, xmm b}. */
    void vaddps128(int dst, int a, int b) {
        vexRR(M0F, P_NONE, false, 0x58, dst, a, b);
    }

    /** {@code vmovhlps xmm dst, xmm a, xmm b}: dst = {b.hi, a.hi}. */
    void vmovhlps(int dst, int a, int b) {
        vexRR(M0F, P_NONE, false, 0x12, dst, a, b);
    }

    /** {@code vmovshdup xmm dst, xmm src}. */
    void vmovshdup(int dst, int src) {
        vexRR(M0F, PF3, false, 0x16, dst, 0, src);
    }

    /** {@code vaddss xmm dst, xmm a, xmm b}. */
    void vaddss(int dst, int a, int b) {
        vexRR(M0F, PF3, false, 0x58, dst, a, b);
    }

    /** {@code vmovss dword [base + disp], xmm src}. */
    void vmovssStore(int base, int disp, int src) {
        vexRM(M0F, PF3, false, 0x11, src, 0, base, disp);
    }

    void vzeroupper() {
        emit(0xC5, 0xF8, 0x77);
    }

    // ---- K-quant kernels ----

    /** {@code mov r32, dword [base + disp]} (zero-extends into the 64-bit register). */
    void movLoad32(int dst, int base, int disp) {
        rex(false, dst, base);
        emit(0x8B);
        memory(dst, base, disp);
    }

    /** {@code mov qword [base + disp], src}. */
    void movStore(int base, int disp, int src) {
        rex(true, src, base);
        emit(0x89);
        memory(src, base, disp);
    }

    /** {@code mov dword [base + disp], imm32}. */
    void movStoreImm32(int base, int disp, int imm) {
        rex(false, 0, base);
        emit(0xC7);
        memory(0, base, disp);
        emit32(imm);
    }

    /** {@code mov r64, imm64}. */
    void movImm64(int r, long imm) {
        rex(true, 0, r);
        emit(0xB8 + (r & 7));
        emit32((int) imm);
        emit32((int) (imm >>> 32));
    }

    /** {@code and dst, src} (64-bit). */
    void and64(int dst, int src) {
        rex(true, src, dst);
        emit(0x21);
        registers(src, dst);
    }

    /** {@code or dst, src} (64-bit). */
    void or64(int dst, int src) {
        rex(true, src, dst);
        emit(0x09);
        registers(src, dst);
    }

    /** {@code shr r, imm8} (64-bit, logical). */
    void shr64(int r, int imm) {
        rex(true, 0, r);
        emit(0xC1);
        registers(5, r);
        emit(imm);
    }

    /** {@code vmovq xmm dst, r64}. */
    void vmovqFromGpr(int dst, int src) {
        vex(M0F, P66, true, false, dst, 0, src);
        emit(0x6E);
        registers(dst, src);
    }

    /** {@code vpunpckldq xmm dst, xmm a, xmm b}: dwords {a0, b0, a1, b1}. */
    void vpunpckldq128(int dst, int a, int b) {
        vexRR(M0F, P66, false, 0x62, dst, a, b);
    }

    /** {@code vpshufd xmm dst, xmm src, imm8}. */
    void vpshufd128(int dst, int src, int imm) {
        vexRR(M0F, P66, false, 0x70, dst, 0, src);
        emit(imm);
    }

    /** {@code vpmovzxbd ymm dst, xmm src}: the low 8 bytes zero-extended to 8 ints. */
    void vpmovzxbd(int dst, int src) {
        vexRR(M0F38, P66, true, 0x31, dst, 0, src);
    }

    /** {@code vpmovsxbd ymm dst, qword [base + disp]}: 8 bytes sign-extended to 8 ints. */
    void vpmovsxbdMem(int dst, int base, int disp) {
        vexRM(M0F38, P66, true, 0x21, dst, 0, base, disp);
    }

    /** {@code vpsrlw ymm dst, ymm src, imm8}. */
    void vpsrlw256(int dst, int src, int imm) {
        vex(M0F, P66, false, true, 2, dst, src);
        emit(0x71);
        registers(2, src);
        emit(imm);
    }

    /** {@code vpsllw ymm dst, ymm src, imm8}. */
    void vpsllw256(int dst, int src, int imm) {
        vex(M0F, P66, false, true, 6, dst, src);
        emit(0x71);
        registers(6, src);
        emit(imm);
    }

    /** {@code vpslld ymm dst, ymm src, imm8} (AVX2 has no memory form of the shifts by an immediate). */
    void vpslld256(int dst, int src, int imm) {
        vex(M0F, P66, false, true, 6, dst, src);
        emit(0x72);
        registers(6, src);
        emit(imm);
    }

    void vpor(int dst, int a, int b) {
        vexRR(M0F, P66, true, 0xEB, dst, a, b);
    }

    /** {@code vmulps ymm dst, ymm a, ymm b}. */
    void vmulps(int dst, int a, int b) {
        vexRR(M0F, P_NONE, true, 0x59, dst, a, b);
    }

    /** {@code vaddps ymm dst, ymm a, ymm b}. */
    void vaddps(int dst, int a, int b) {
        vexRR(M0F, P_NONE, true, 0x58, dst, a, b);
    }

    /** {@code vbroadcastss ymm dst, dword [base + disp]}. */
    void vbroadcastssMem(int dst, int base, int disp) {
        vexRM(M0F38, P66, true, 0x18, dst, 0, base, disp);
    }

    /** {@code vpermps ymm dst, ymm idx, [base + disp]}: dst[i] = table[idx[i] &amp; 7]. */
    void vpermpsMem(int dst, int idx, int base, int disp) {
        vexRM(M0F38, P66, true, 0x16, dst, idx, base, disp);
    }

    /** {@code vmovups [base + disp], ymm src}. */
    void vmovupsStore(int base, int disp, int src) {
        vexRM(M0F, P_NONE, true, 0x11, src, 0, base, disp);
    }

    /** {@code vcvtdq2ps ymm dst, [base + disp]}. */
    void vcvtdq2psMem(int dst, int base, int disp) {
        vexRM(M0F, P_NONE, true, 0x5B, dst, 0, base, disp);
    }

    /** {@code vcvtdq2ps ymm dst, [base + index + disp]} ({@code index < 0}: none). */
    void vcvtdq2psMem(int dst, int base, int index, int disp) {
        vexRMI(M0F, P_NONE, true, 0x5B, dst, 0, base, index, disp);
    }

    /** {@code vfmadd231ps ymm acc, ymm a, [base + index + disp]}: acc = a · m + acc, one rounding ({@code index < 0}: none). */
    void vfmadd231psMem(int acc, int a, int base, int index, int disp) {
        vexRMI(M0F38, P66, true, 0xB8, acc, a, base, index, disp);
    }

    // ---- AVX-512 (EVEX, 512-bit, zmm0-31, no masks) ----

    /**
     * EVEX prefix for a 512-bit operation, no opmask. Vector registers 0-31 ({@code reg}, {@code vvvv},
     * and {@code rm} when {@code rmIsRegister}); for a memory operand {@code rm} is the base register and
     * {@code index} the index (0 when there is none), and {@code broadcast} sets EVEX.b: the operand is one
     * dword repeated in all 16 lanes ({@code {1to16}}).
     */
    private void evex(int map, int pp, boolean w, int reg, int vvvv, int rm, int index, boolean rmIsRegister, boolean broadcast) {
        int x = rmIsRegister ? rm & 16 : index & 8;              // a register rm takes its bit 4 from EVEX.X
        int p0 = ((reg & 8) == 0 ? 0x80 : 0) | (x == 0 ? 0x40 : 0) | ((rm & 8) == 0 ? 0x20 : 0) | ((reg & 16) == 0 ? 0x10 : 0) | map;
        int p1 = (w ? 0x80 : 0) | (~vvvv & 15) << 3 | 0x04 | pp;
        int p2 = 0x40 | (broadcast ? 0x10 : 0) | ((vvvv & 16) == 0 ? 0x08 : 0);   // L'L = 10 (512 bits)
        emit(0x62, p0, p1, p2);
    }

    private void evex(int map, int pp, boolean w, int reg, int vvvv, int rm, int index) {
        evex(map, pp, w, reg, vvvv, rm, index, false, false);
    }

    /**
     * ModRM (+ SIB) (+ displacement) for EVEX memory operands. EVEX scales an 8-bit displacement by
     * the operand size, so a non-zero displacement is always written as 32 bits (never compressed).
     */
    private void evexMemory(int reg, int base, int index, int disp) {
        int b = base & 7;
        int mod = disp == 0 && b != 5 ? 0 : disp == 0 ? 1 : 2;   // [rbp/r13] needs a displacement: disp8 0 (0 × N = 0)
        if (index < 0) {
            emit(mod << 6 | (reg & 7) << 3 | b);
            if (b == 4) {
                emit(0x24);
            }
        } else {
            emit(mod << 6 | (reg & 7) << 3 | 4, (index & 7) << 3 | b);
        }
        if (mod == 1) {
            emit(0);
        } else if (mod == 2) {
            emit32(disp);
        }
    }

    private void evexRR(int map, int pp, boolean w, int opcode, int dst, int src1, int src2) {
        evex(map, pp, w, dst, src1, src2, 0, true, false);
        emit(opcode);
        registers(dst, src2);
    }

    /** An EVEX instruction whose memory operand is one dword broadcast to 16 lanes ({@code [base + disp]{1to16}}). */
    private void evexRMBroadcast(int map, int pp, int opcode, int dst, int src1, int base, int disp) {
        evex(map, pp, false, dst, src1, base, 0, false, true);
        emit(opcode);
        evexMemory(dst, base, -1, disp);
    }

    private void evexRM(int map, int pp, boolean w, int opcode, int dst, int src1, int base, int index, int disp) {
        evex(map, pp, w, dst, src1, base, Math.max(index, 0));
        emit(opcode);
        evexMemory(dst, base, index, disp);
    }

    /** {@code vpdpbusd zmm acc, zmm u8, [base + index + disp]} (AVX512_VNNI; {@code index < 0}: none). */
    void vpdpbusdZ(int acc, int u8, int base, int index, int disp) {
        evexRM(M0F38, P66, false, 0x50, acc, u8, base, index, disp);
    }

    /** {@code vcvtdq2ps zmm dst, zmm src}. */
    void vcvtdq2psZ(int dst, int src) {
        evexRR(M0F, P_NONE, false, 0x5B, dst, 0, src);
    }

    /** {@code vmulps zmm dst, zmm a, [base + index + disp]}. */
    void vmulpsZ(int dst, int a, int base, int index, int disp) {
        evexRM(M0F, P_NONE, false, 0x59, dst, a, base, index, disp);
    }

    /** {@code vfmadd231ps zmm acc, zmm a, zmm b}. */
    void vfmadd231psZ(int acc, int a, int b) {
        evexRR(M0F38, P66, false, 0xB8, acc, a, b);
    }

    /** {@code vmovdqa32 zmm dst, zmm src} (a register copy). */
    void vmovdqa32Z(int dst, int src) {
        evexRR(M0F, P66, false, 0x6F, dst, 0, src);
    }

    /** {@code vmovdqu32 zmm dst, [base + index + disp]}. */
    void vmovdqu32Z(int dst, int base, int index, int disp) {
        evexRM(M0F, PF3, false, 0x6F, dst, 0, base, index, disp);
    }

    /** {@code vbroadcasti64x4 zmm dst, [base + disp]}: 32 bytes into both halves. */
    void vbroadcasti64x4Z(int dst, int base, int disp) {
        evexRM(M0F38, P66, true, 0x5B, dst, 0, base, -1, disp);
    }

    /** {@code vbroadcastss zmm dst, dword [base + disp]}. */
    void vbroadcastssZ(int dst, int base, int disp) {
        evexRM(M0F38, P66, false, 0x18, dst, 0, base, -1, disp);
    }

    /** {@code vpxord zmm dst, zmm a, zmm b}. */
    void vpxordZ(int dst, int a, int b) {
        evexRR(M0F, P66, false, 0xEF, dst, a, b);
    }

    /** {@code vextractf64x4 ymm dst, zmm src, imm8}: half {@code imm} of the zmm. */
    void vextractf64x4Z(int dst, int src, int imm) {
        evex(M0F3A, P66, true, src, 0, dst, 0, true, false);
        emit(0x1B);
        registers(src, dst);
        emit(imm);
    }

    /** {@code vfmadd231ps zmm acc, zmm a, [base + index + disp]}. */
    void vfmadd231psZMem(int acc, int a, int base, int index, int disp) {
        evexRM(M0F38, P66, false, 0xB8, acc, a, base, index, disp);
    }

    /** {@code vaddps zmm dst, zmm a, zmm b}. */
    void vaddpsZ(int dst, int a, int b) {
        evexRR(M0F, P_NONE, false, 0x58, dst, a, b);
    }

    /** {@code vpermps zmm dst, zmm indices, [base + disp]}: lane i of dst = the float at index {@code indices[i]} (0-15) of the 64 bytes. */
    void vpermpsZ(int dst, int indices, int base, int disp) {
        evexRM(M0F38, P66, false, 0x16, dst, indices, base, -1, disp);
    }

    /** {@code vmulps zmm dst, zmm a, zmm b}. */
    void vmulpsZReg(int dst, int a, int b) {
        evexRR(M0F, P_NONE, false, 0x59, dst, a, b);
    }

    /** {@code vpdpbusd zmm acc, zmm u8, [base + disp]{1to16}}: every lane meets the same four signed bytes. */
    void vpdpbusdZBroadcast(int acc, int u8, int base, int disp) {
        evexRMBroadcast(M0F38, P66, 0x50, acc, u8, base, disp);
    }

    /** {@code vmulps zmm dst, zmm a, [base + disp]{1to16}}. */
    void vmulpsZBroadcast(int dst, int a, int base, int disp) {
        evexRMBroadcast(M0F, P_NONE, 0x59, dst, a, base, disp);
    }

    /** {@code vpandd zmm dst, zmm a, zmm b}. */
    void vpanddZ(int dst, int a, int b) {
        evexRR(M0F, P66, false, 0xDB, dst, a, b);
    }

    /** {@code vpsrlw zmm dst, zmm src, imm8}: each 16-bit word shifted right. */
    void vpsrlwZ(int dst, int src, int imm) {
        evex(M0F, P66, false, 2, dst, src, 0, true, false);
        emit(0x71);
        registers(2, src);
        emit(imm);
    }

    /** {@code vpbroadcastd zmm dst, dword [base + disp]}. */
    void vpbroadcastdZ(int dst, int base, int disp) {
        evexRM(M0F38, P66, false, 0x58, dst, 0, base, -1, disp);
    }

    /** {@code vpbroadcastd zmm dst, r32 src}. */
    void vpbroadcastdZGpr(int dst, int src) {
        evex(M0F38, P66, false, dst, 0, src, 0, false, false);
        emit(0x7C);
        registers(dst, src);
    }

    /** {@code vcvtph2ps zmm dst, [base + disp]}: 16 halves to floats. */
    void vcvtph2psZ(int dst, int base, int disp) {
        evexRM(M0F38, P66, false, 0x13, dst, 0, base, -1, disp);
    }

    /** {@code vmovups [base + disp], zmm src}. */
    void vmovupsZStore(int base, int disp, int src) {
        evexRM(M0F, P_NONE, false, 0x11, src, 0, base, -1, disp);
    }

    /** {@code vfmadd231ps zmm acc, zmm a, [base + disp]{1to16}}: acc = a · m + acc, one rounding. */
    void vfmadd231psZBroadcast(int acc, int a, int base, int disp) {
        evexRMBroadcast(M0F38, P66, 0xB8, acc, a, base, disp);
    }

    /** {@code vpmovzxbd zmm dst, [base + disp]}: 16 unsigned bytes widened to dwords. */
    void vpmovzxbdZ(int dst, int base, int disp) {
        evexRM(M0F38, P66, false, 0x31, dst, 0, base, -1, disp);
    }

    /** {@code vpmovsxbd zmm dst, [base + disp]}: 16 signed bytes widened to dwords. */
    void vpmovsxbdZ(int dst, int base, int disp) {
        evexRM(M0F38, P66, false, 0x21, dst, 0, base, -1, disp);
    }

    /** {@code vunpcklps zmm dst, zmm a, zmm b}: per 128-bit block, a0 b0 a1 b1. */
    void vunpcklpsZ(int dst, int a, int b) {
        evexRR(M0F, P_NONE, false, 0x14, dst, a, b);
    }

    /** {@code vunpckhps zmm dst, zmm a, zmm b}: per 128-bit block, a2 b2 a3 b3. */
    void vunpckhpsZ(int dst, int a, int b) {
        evexRR(M0F, P_NONE, false, 0x15, dst, a, b);
    }

    /** {@code vshufps zmm dst, zmm a, zmm b, imm8}: per 128-bit block, two floats of a then two of b. */
    void vshufpsZ(int dst, int a, int b, int imm) {
        evexRR(M0F, P_NONE, false, 0xC6, dst, a, b);
        emit(imm);
    }

    /** {@code vshuff32x4 zmm dst, zmm a, zmm b, imm8}: 128-bit blocks, two chosen from a, then two from b. */
    void vshuff32x4Z(int dst, int a, int b, int imm) {
        evexRR(M0F3A, P66, false, 0x23, dst, a, b);
        emit(imm);
    }
}
