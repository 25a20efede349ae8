package dev.tandem.kernels.x86;

import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The EVEX encodings of {@link Asm} against GNU binutils: the expected bytes are what
 * {@code objdump -D -b binary -mi386:x86-64} decodes back to the instructions written here
 * (registers above 15, embedded broadcast, 32-bit displacements).
 */
class AsmTest {
    @Test
    void evexEncodingsMatchBinutils() {
        Asm a = new Asm();
        a.vpdpbusdZBroadcast(24, 0, Asm.RDX, 0x24);
        a.vpdpbusdZBroadcast(31, 17, Asm.R13, 0);
        a.vpdpbusdZBroadcast(3, 5, Asm.R12, 8);
        a.vmulpsZBroadcast(5, 4, Asm.RCX, 0x20);
        a.vmulpsZBroadcast(22, 20, Asm.R9, 0x220);
        a.vpanddZ(1, 0, 3);
        a.vpanddZ(17, 30, 19);
        a.vpsrlwZ(2, 0, 4);
        a.vpsrlwZ(18, 25, 4);
        a.vpbroadcastdZ(24, Asm.RDX, 0x28);
        a.vpbroadcastdZ(7, Asm.R8, 0);
        a.vpbroadcastdZGpr(3, Asm.RAX);
        a.vpbroadcastdZGpr(19, Asm.R10);
        a.vcvtph2psZ(4, Asm.RDI, 0);
        a.vcvtph2psZ(20, Asm.R11, 0x40);
        a.vmovupsZStore(Asm.R8, 0x40, 16);
        a.vmovupsZStore(Asm.RSI, 0, 3);
        a.vcvtdq2psZ(5, 24);
        a.vcvtdq2psZ(21, 3);
        a.vfmadd231psZ(16, 5, 6);
        a.vfmadd231psZ(23, 29, 30);
        a.vpxordZ(16, 16, 16);
        a.vpxordZ(31, 31, 31);
        a.vmovdqu32Z(0, Asm.RDI, -1, 0x20);
        a.vmovdqu32Z(18, Asm.R14, -1, 0x60);
        a.vmovdqa32Z(17, 25);
        String expected = "62627d5850822400000062427550507d0062d25558509c240800000062f15c5859a92000000062c15c5059b120020000" +
                "62f17d48dbcb62a10d40dbcb62f16d4871d00462916d4071d10462627d4858822800000062d27d48583862f27d487cd8" +
                "62c27d487cda62f27d48132762c27d4813a34000000062c17c4811804000000062f17c48111e62917c485be862e17c48" +
                "5beb62e25548b8c662821540b8fe62a17d40efc062010540efff62f17e486f872000000062c17e486f96600000006281" +
                "7d486fc9";
        assertEquals(expected, HexFormat.of().formatHex(a.bytes()));
    }

    @Test
    void kQuantKernelEncodingsMatchBinutils() {
        Asm a = new Asm();
        a.vfmadd231psZBroadcast(16, 7, Asm.R11, 0x2c);
        a.vfmadd231psZBroadcast(23, 25, Asm.RAX, 0);
        a.vpmovzxbdZ(4, Asm.RDI, 0x80);
        a.vpmovzxbdZ(20, Asm.R12, 0);
        a.vpmovsxbdZ(7, Asm.RDI, 0x50);
        a.vpmovsxbdZ(28, Asm.R9, 0x10);
        a.vmulpsZ(4, 4, Asm.RDI, -1, 0);
        a.vmulpsZ(7, 7, Asm.RDI, -1, 0x40);
        assertEquals("62c24558b8832c00000062e23550b83862f27d4831a78000000062c27d4831242462f27d4821bf5000000062427d48"
                + "21a11000000062f15c48592762f1444859bf40000000", HexFormat.of().formatHex(a.bytes()));
    }

    @Test
    void attentionKernelEncodingsMatchBinutils() {
        Asm a = new Asm();
        a.vunpcklpsZ(16, 0, 1);
        a.vunpckhpsZ(31, 14, 15);
        a.vshufpsZ(0, 16, 18, 0x44);
        a.vshufpsZ(15, 29, 31, 0xEE);
        a.vshuff32x4Z(16, 0, 4, 0x88);
        a.vshuff32x4Z(9, 18, 30, 0xDD);
        a.vbroadcastssZ(16, Asm.RDI, 0);
        a.vfmadd231psZMem(19, 20, Asm.RDI, -1, 0xc0);
        a.vfmadd231psZMem(5, 16, Asm.RAX, -1, 0x40);
        a.vaddpsZ(21, 16, 17);
        a.vaddpsZ(3, 21, 22);
        a.vmovupsZStore(Asm.RBX, 0, 16);
        assertEquals("62e17c4814c162410c4815ff62b17c40c6c24462111440c6ffee62e37d4823c48862136d4023cedd62e27d481807"
                + "62e25d40b89fc000000062f27d40b8a84000000062a17c4058e962b1544058de62e17c481103", HexFormat.of().formatHex(a.bytes()));
    }
}
