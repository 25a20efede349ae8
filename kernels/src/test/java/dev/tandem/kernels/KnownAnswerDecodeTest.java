package dev.tandem.kernels;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static dev.tandem.kernels.TestData.assertBits;

/**
 * Hand-built blocks decoded against values worked out by hand from the published layouts
 * (llama.cpp ggml-common.h / ggml-quants.c {@code dequantize_row_*}), independently of our
 * decoders: a layout mistake fails here even when the scalar and vector decoders agree.
 * Both decoders are checked. Scales are exact binary16 values (0.5 = 0x3800, 0.25 = 0x3400, ...)
 * so every expected value is an exact float.
 */
class KnownAnswerDecodeTest {

    /** A block under construction: little-endian bytes at explicit offsets. */
    private static final class Block {
        final byte[] bytes;

        Block(int size) {
            bytes = new byte[size];
        }

        Block u8(int at, int value) {
            bytes[at] = (byte) value;
            return this;
        }

        Block u16(int at, int value) {
            bytes[at] = (byte) value;
            bytes[at + 1] = (byte) (value >>> 8);
            return this;
        }
    }

    /** Decodes the block with both decoders and checks {@code expected[k]} at weight index {@code index[k]}. */
    private static void check(Format f, Block block, int n, int[] index, float[] expected) {
        // place the block 1 byte into the segment: decoders must not assume alignment
        byte[] shifted = new byte[block.bytes.length + 1];
        System.arraycopy(block.bytes, 0, shifted, 1, block.bytes.length);
        MemorySegment seg = MemorySegment.ofArray(shifted);
        float[] slow = new float[n];
        f.dequantize(seg, 1, slow, 0, n);
        float[] fast = slow;
        if (f instanceof BlockFormat bf) {
            fast = new float[n];
            bf.dequantizeFast(seg, 1, fast, 0, n);
        }
        for (int k = 0; k < index.length; k++) {
            assertBits(expected[k], slow[index[k]], f.type() + " dequantize, weight " + index[k]);
            assertBits(expected[k], fast[index[k]], f.type() + " dequantizeFast, weight " + index[k]);
        }
    }

    @Test
    void f32() {
        Block b = new Block(8).u8(2, 0xc0).u8(3, 0x3f)        // 0x3fc00000 = 1.5
                .u8(4, 0x01);                                     // 0x00000001 = smallest subnormal
        check(F32.INSTANCE, b, 2, new int[] {0, 1}, new float[] {1.5f, Float.MIN_VALUE});
    }

    @Test
    void f16() {
        int[] bits = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x8000, 0x3555, 0x7e00, 0x0000};
        float[] expected = {1f, -2f, 65504f, 0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, -0f, 1365f / 4096f /* (1 + 341/1024) / 4 */, Float.NaN, 0f};
        Block b = new Block(2 * 16);                               // 16 weights: a whole vector at 512 bits
        for (int i = 0; i < bits.length; i++) {
            b.u16(2 * i, bits[i]);
        }
        check(F16.INSTANCE, b, 16, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, expected);
    }

    @Test
    void bf16() {
        int[] bits = {0x3f80, 0xc0a0, 0x0001, 0x7f80, 0x3eab, 0x8000, 0x7fc0};
        float[] expected = {1f, -5f, 0x1p-133f /* 0x00010000 as float */, Float.POSITIVE_INFINITY,
                0.333984375f /* 0x3eab0000 */, -0f, Float.NaN};
        Block b = new Block(2 * 16);
        for (int i = 0; i < bits.length; i++) {
            b.u16(2 * i, bits[i]);
        }
        check(BF16.INSTANCE, b, 16, new int[] {0, 1, 2, 3, 4, 5, 6}, expected);
    }

    @Test
    void q8_0() {
        // block 0: d = 0.5, qs[0] = -128, qs[5] = 3, qs[31] = 127; block 1: d = 2^-24 (subnormal f16), qs[0] = 1
        Block b = new Block(2 * 34).u16(0, 0x3800).u8(2, 0x80).u8(2 + 5, 3).u8(2 + 31, 127)
                .u16(34, 0x0001).u8(36, 1);
        check(Q8_0.INSTANCE, b, 64, new int[] {0, 5, 31, 1, 32, 33},
                new float[] {-64f, 1.5f, 63.5f, 0f, 0x1p-24f, 0f});
    }

    @Test
    void q4_0() {
        // d = -2; weight j = d * ((qs[j] & 15) - 8), weight j + 16 = d * ((qs[j] >> 4) - 8)
        Block b = new Block(18).u16(0, 0xc000)
                .u8(2, 0x1f)                  // weight 0: (15-8)*-2 = -14; weight 16: (1-8)*-2 = 14
                .u8(2 + 15, 0x80)             // weight 15: (0-8)*-2 = 16; weight 31: (8-8)*-2 = -0
                .u8(2 + 7, 0x9c);             // weight 7: (12-8)*-2 = -8; weight 23: (9-8)*-2 = -2
        check(Q4_0.INSTANCE, b, 32, new int[] {0, 16, 15, 31, 7, 23, 1},
                new float[] {-14f, 14f, 16f, -0f, -8f, -2f, 16f /* qs[1] = 0: (0-8)*-2 */});
    }

    /**
     * The K-quant packed scales used by Q4_K and Q5_K (get_scale_min_k4), as 12 bytes at {@code at}:
     * sc0 = 3, m0 = 5; sc1 = 1, m1 = 4; sc4 = 6, m4 = 9; sc5 = 2 | 3 << 4 = 50, m5 = 7 | 1 << 4 = 23;
     * sc7 = 1, m7 = 2; all others 0.
     */
    private static Block kScales(Block b, int at) {
        return b.u8(at, 3)            // scales[0]: sc0 = 3 (low 6 bits); top bits 0 → sc4 high = 0
                .u8(at + 4, 5)        // scales[4]: m0 = 5; top bits 0 → m4 high = 0
                .u8(at + 1, 0xc1)     // scales[1]: sc1 = 1; top bits 3 → sc5 high bits
                .u8(at + 5, 0x44)     // scales[5]: m1 = 4; top bits 1 → m5 high bits
                .u8(at + 8, 0x96)     // scales[8]: sc4 low nibble 6, m4 low nibble 9
                .u8(at + 9, 0x72)     // scales[9]: sc5 low nibble 2, m5 low nibble 7
                .u8(at + 11, 0x21);   // scales[11]: sc7 low nibble 1, m7 low nibble 2
    }

    @Test
    void q4_K() {
        // d = 0.5 at 0, dmin = 0.25 at 2, scales at 4, qs at 16; chunk c (64 weights) uses qs[32c..]
        Block b = kScales(new Block(144).u16(0, 0x3800).u16(2, 0x3400), 4)
                .u8(16, 0x2b)              // qs[0]: weight 0 = 0.5*3*11 - 0.25*5 = 15.25; weight 32 = 0.5*1*2 - 0.25*4 = 0
                .u8(16 + 64 + 3, 0xa7)     // qs[67]: weight 131 = 0.5*6*7 - 0.25*9 = 18.75; weight 163 = 0.5*50*10 - 0.25*23 = 244.25
                .u8(16 + 127, 0xf0);       // qs[127]: weight 223 = sub-block 6 (0, 0) → 0; weight 255 = 0.5*1*15 - 0.25*2 = 7
        check(Q4_K.INSTANCE, b, 256, new int[] {0, 32, 131, 163, 223, 255, 1},
                new float[] {15.25f, 0f, 18.75f, 244.25f, 0f, 7f, -1.25f /* qs[1] = 0: 0 - 0.25*5 */});
    }

    @Test
    void q5_K() {
        // d = 0.5, dmin = 0.25, scales at 4, qh at 16, qs at 48; fifth bit of weight 64c + l is bit 2c of qh[l],
        // of weight 64c + 32 + l bit 2c + 1
        Block b = kScales(new Block(176).u16(0, 0x3800).u16(2, 0x3400), 4)
                .u8(16, 0x01)              // qh[0]: bit 0 → weight 0 gets +16
                .u8(16 + 3, 0x20)          // qh[3]: bit 5 → weight 64*2 + 32 + 3 = 163 gets +16
                .u8(16 + 31, 0x80)         // qh[31]: bit 7 → weight 64*3 + 32 + 31 = 255 gets +16
                .u8(48, 0x2b)              // weight 0 = 0.5*3*(11+16) - 1.25 = 39.25; weight 32 = 0.5*1*2 - 1 = 0
                .u8(48 + 64 + 3, 0xa7)     // weight 131 = 0.5*6*7 - 2.25 = 18.75; weight 163 = 0.5*50*(10+16) - 5.75 = 644.25
                .u8(48 + 127, 0xf0);       // weight 255 = 0.5*1*(15+16) - 0.25*2 = 15
        check(Q5_K.INSTANCE, b, 256, new int[] {0, 32, 131, 163, 255, 1},
                new float[] {39.25f, 0f, 18.75f, 644.25f, 15f, -1.25f});
    }

    @Test
    void q6_K() {
        // ql at 0, qh at 128, scales (int8) at 192, d at 208. d = 0.5.
        // weight l      = d*sc[l/16]     * ((ql[l]    & 15) | (qh[l]      & 3) << 4) - 32)   for l < 32
        // weight l + 32 = d*sc[l/16 + 2] * ((ql[l+32] & 15) | (qh[l] >> 2 & 3) << 4) - 32)
        // weight l + 64 = d*sc[l/16 + 4] * ((ql[l]    >> 4) | (qh[l] >> 4 & 3) << 4) - 32)
        // weight l + 96 = d*sc[l/16 + 6] * ((ql[l+32] >> 4) | (qh[l] >> 6 & 3) << 4) - 32)
        // the second 128 weights use ql[64..], qh[32..], sc[8..]
        Block b = new Block(210).u16(208, 0x3800)
                .u8(192, 2).u8(192 + 2, -3).u8(192 + 4, 4).u8(192 + 6, 1).u8(192 + 9, -128)
                .u8(0, 0x5a)               // ql[0]
                .u8(32, 0x0c)              // ql[32]
                .u8(128, 0xe7);            // qh[0] = 0b11_10_01_11
        // weight 0:   (10 | 3<<4) - 32 = 26   → 0.5*2*26 = 26
        // weight 32:  (12 | 1<<4) - 32 = -4   → 0.5*-3*-4 = 6
        // weight 64:  (5  | 2<<4) - 32 = 5    → 0.5*4*5 = 10
        // weight 96:  (0  | 3<<4) - 32 = 16   → 0.5*1*16 = 8
        // weight 1:   0 - 32 = -32            → 0.5*2*-32 = -32
        // weight 148: second half, l = 20, sc[8 + 1] = -128, q = -32 → 0.5*-128*-32 = 2048
        // weight 16:  l = 16 → sc[1] = 0      → 0.5*0*-32 = -0
        check(Q6_K.INSTANCE, b, 256, new int[] {0, 32, 64, 96, 1, 148, 16},
                new float[] {26f, 6f, 10f, 8f, -32f, 2048f, -0f});
    }
}
