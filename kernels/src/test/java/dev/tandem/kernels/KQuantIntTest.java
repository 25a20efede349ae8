package dev.tandem.kernels;

import dev.tandem.kernels.x86.Cpu;
import dev.tandem.kernels.x86.KQuantDot;
import dev.tandem.kernels.x86.KQuantTile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The integer path for Q4_K and Q6_K: native kernels against their Java twin bitwise (both
 * instruction choices), batch invariance, and closeness to the exact product of the dequantized
 * weights. The weights are random bytes (every scale, min and code byte value is valid) with
 * finite half-precision super-block scales, since this codebase does not write K-quants.
 */
class KQuantIntTest {

    /** A finite half: sign, exponent 0 (zero / subnormal) .. 17 (up to 4), random mantissa. */
    private static short half(SplittableRandom rnd, boolean positive) {
        int exponent = rnd.nextInt(10) == 0 ? 0 : 1 + rnd.nextInt(17);
        int sign = positive || rnd.nextBoolean() ? 0 : 0x8000;
        return (short) (sign | exponent << 10 | rnd.nextInt(1024));
    }

    /**
     * {@code rows × cols} weights of random bytes; super-block scales from {@link #half}. Some
     * super-blocks get extreme scale bytes: all ones (Q4_K: scales and mins 63; Q6_K: -1), all
     * zeros, Q6_K's -128 and 127.
     */
    static MemorySegment weights(GgmlType type, int rows, int cols, SplittableRandom rnd, boolean positiveScales, Arena arena) {
        long rb = type.bytesFor(cols);
        MemorySegment w = arena.allocate(rb * rows + 64, 64);
        for (long i = 0; i < rb * rows; i++) {
            w.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
        }
        int superBlocks = rows * (cols / 256);
        for (int sb = 0; sb < superBlocks; sb++) {
            int extreme = rnd.nextInt(8);
            if (type == GgmlType.Q4_K) {
                long blk = (long) sb * Q4_K.BLOCK_BYTES;
                w.set(BlockFormat.HALF, blk + Q4_K.D, half(rnd, positiveScales));
                w.set(BlockFormat.HALF, blk + Q4_K.DMIN, half(rnd, positiveScales));
                if (extreme < 2) {
                    w.asSlice(blk + Q4_K.SCALES, 12).fill((byte) (extreme == 0 ? 0xFF : 0));
                }
            } else {
                long blk = (long) sb * Q6_K.BLOCK_BYTES;
                w.set(BlockFormat.HALF, blk + Q6_K.D, half(rnd, positiveScales));
                if (extreme < 4) {
                    w.asSlice(blk + Q6_K.SCALES, 16).fill((byte) new int[]{0xFF, 0, 0x80, 0x7F}[extreme]);
                }
            }
        }
        return w;
    }

    private static float[] vectors(int batch, int cols, SplittableRandom rnd) {
        float[] x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian() * (i % 11 == 0 ? 10 : 1);
        }
        Arrays.fill(x, 32, 64, 0f);              // a block of zeros: its scale is 0
        for (int i = 64; i < 96; i++) {
            x[i] = i % 2 == 0 ? 1e4f : -1e4f;    // a block of ±127
        }
        return x;
    }

    @ParameterizedTest
    @CsvSource({"Q4_K, 37, 256", "Q4_K, 70, 2048", "Q4_K, 1, 512", "Q6_K, 37, 256", "Q6_K, 70, 2048", "Q6_K, 3, 768"})
    void nativeEqualsTheJavaTwinBitwise(GgmlType type, int rows, int cols) {
        SplittableRandom rnd = new SplittableRandom(rows * 31L + cols + type.ordinal());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = weights(type, rows, cols, rnd, false, arena);
            float[] x = vectors(3, cols, rnd);
            Q8Activations act = new Q8Activations();
            act.quantize(x, 3, cols);
            float[] out = new float[3 * rows];
            IntKernels.matmul(type, w, 0, cols, 0, rows, act, out, rows);
            for (int b = 0; b < 3; b++) {
                for (int r = 0; r < rows; r++) {
                    float expected = KQuantInt.rowReference(type, w, r * type.bytesFor(cols), act, b);
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[b * rows + r]),
                            type + " row " + r + " vector " + b + " (native: " + (KQuantDot.UNAVAILABLE == null) + "): " + expected + " vs " + out[b * rows + r]);
                }
            }
        }
    }

    @Test
    void bothInstructionChoicesEqualTheJavaTwinBitwise() throws Throwable {
        Assumptions.assumeTrue(Cpu.THIS.nativeKernels(), "needs x86-64 Linux with AVX2/FMA/F16C: " + Cpu.THIS);
        int rows = 41, cols = 1024;
        for (GgmlType type : new GgmlType[]{GgmlType.Q4_K, GgmlType.Q6_K}) {
            boolean q6 = type == GgmlType.Q6_K;
            SplittableRandom rnd = new SplittableRandom(5 + type.ordinal());
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = weights(type, rows, cols, rnd, false, arena);
                float[] x = vectors(1, cols, rnd);
                Q8Activations act = new Q8Activations();
                act.quantize(x, 1, cols);
                long rb = type.bytesFor(cols);
                MemorySegment out = arena.allocate(4L * rows);
                for (boolean vnni : Cpu.THIS.avxVnni() ? new boolean[]{false, true} : new boolean[]{false}) {
                    MethodHandle kernel = KQuantDot.load(q6, vnni);
                    out.fill((byte) 0x7F);
                    kernel.invokeExact(w.address(), rb, (long) rows, (long) cols / 32, act.address(0), out.address());
                    for (int r = 0; r < rows; r++) {
                        float expected = KQuantInt.rowReference(type, w, r * rb, act, 0);
                        assertEquals(Float.floatToRawIntBits(expected), out.getAtIndex(ValueLayout.JAVA_INT, r),
                                type + (vnni ? " AVX-VNNI" : " AVX2") + " row " + r);
                    }
                }
            }
        }
    }

    /**
     * Batches of 4 or more go through the prepared-rows tile (where AVX-VNNI allows): every element
     * against the twin, with odd row counts, several row blocks, a row range not starting at 0, and
     * vectors left over after the groups of four (5, 9).
     */
    @ParameterizedTest
    @CsvSource({"Q4_K, 4, 133, 512", "Q4_K, 5, 37, 2048", "Q4_K, 9, 71, 256", "Q6_K, 4, 133, 512", "Q6_K, 5, 37, 2048", "Q6_K, 9, 71, 256"})
    void batchesThroughTheTileEqualTheJavaTwinBitwise(GgmlType type, int batch, int rows, int cols) {
        SplittableRandom rnd = new SplittableRandom(batch * 131L + rows + type.ordinal());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = weights(type, rows, cols, rnd, false, arena);
            float[] x = vectors(batch, cols, rnd);
            Q8Activations act = new Q8Activations();
            act.quantize(x, batch, cols);
            float[] out = new float[batch * rows];
            Arrays.fill(out, Float.NaN);
            int start = 3;
            IntKernels.matmul(type, w, 0, cols, start, rows, act, out, rows);
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < rows; r++) {
                    float got = out[b * rows + r];
                    if (r < start) {
                        assertTrue(Float.isNaN(got), type + " row " + r + " outside the range was written");
                        continue;
                    }
                    float expected = KQuantInt.rowReference(type, w, r * type.bytesFor(cols), act, b);
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got),
                            type + " row " + r + " vector " + b + " (tile: " + KQuantTile.available() + "): " + expected + " vs " + got);
                }
            }
        }
    }

    /** The tile called directly (so a change in the dispatch cannot route around it), against the twin. */
    @Test
    void theTileItselfEqualsTheJavaTwinBitwise() {
        Assumptions.assumeTrue(KQuantTile.available(), "needs AVX-VNNI: " + Cpu.THIS);
        int rows = 19, cols = 768, blocks = cols / 32;
        for (GgmlType type : new GgmlType[]{GgmlType.Q4_K, GgmlType.Q6_K}) {
            boolean q6 = type == GgmlType.Q6_K;
            SplittableRandom rnd = new SplittableRandom(13 + type.ordinal());
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = weights(type, rows, cols, rnd, false, arena);
                float[] x = vectors(4, cols, rnd);
                Q8Activations act = new Q8Activations();
                act.quantize(x, 4, cols);
                long rb = type.bytesFor(cols);
                MemorySegment prepared = arena.allocate(KQuantTile.preparedRowBytes(q6, blocks) * rows, 64);
                long outStride = 4L * rows + 12;
                MemorySegment out = arena.allocate(4 * outStride);
                out.fill((byte) 0x7F);
                KQuantTile.prepare(q6, w.address(), rb, rows, blocks, prepared.address());
                MemorySegment factors = KQuantInt.factors(q6, act, 4);
                KQuantTile.tile(q6, prepared.address(), rows, blocks, act.address(0), act.address(1) - act.address(0),
                        factors.address(), out.address(), outStride);
                for (int t = 0; t < 4; t++) {
                    for (int r = 0; r < rows; r++) {
                        float expected = KQuantInt.rowReference(type, w, r * rb, act, t);
                        assertEquals(Float.floatToRawIntBits(expected), out.get(ValueLayout.JAVA_INT, t * outStride + 4L * r),
                                type + " row " + r + " vector " + t);
                    }
                    assertEquals(0x7F7F7F7F, out.get(ValueLayout.JAVA_INT, t * outStride + 4L * rows), type + " wrote past its rows");
                }
            }
        }
    }

    /**
     * Batches of 8 or more go through the 512-bit tile over vector pairs (where AVX-512 VNNI allows),
     * then the 4-vector tile and the matrix-vector kernel for the rest (9: one leftover; 13: a group
     * of four and one; 21: both): every element against the twin, odd and even row counts over
     * several row blocks, the rows split into two calls at a point inside a row block.
     */
    @ParameterizedTest
    @CsvSource({"Q4_K, 8, 133, 512", "Q4_K, 9, 130, 256", "Q4_K, 13, 71, 512", "Q4_K, 16, 66, 2048", "Q4_K, 21, 133, 256",
            "Q6_K, 8, 130, 512", "Q6_K, 9, 133, 256", "Q6_K, 13, 70, 512", "Q6_K, 16, 67, 2048", "Q6_K, 21, 130, 256"})
    void batchesThroughTheWideTileEqualTheJavaTwinBitwise(GgmlType type, int batch, int rows, int cols) {
        SplittableRandom rnd = new SplittableRandom(batch * 977L + rows + type.ordinal());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = weights(type, rows, cols, rnd, false, arena);
            float[] x = vectors(batch, cols, rnd);
            Q8Activations act = new Q8Activations();
            act.quantize(x, batch, cols);
            float[] out = new float[batch * rows];
            Arrays.fill(out, Float.NaN);
            int split = 37;
            IntKernels.matmul(type, w, 0, cols, 0, split, act, out, rows);
            IntKernels.matmul(type, w, 0, cols, split, rows, act, out, rows);
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < rows; r++) {
                    float expected = KQuantInt.rowReference(type, w, r * type.bytesFor(cols), act, b);
                    float got = out[b * rows + r];
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got),
                            type + " row " + r + " vector " + b + " (wide tile: " + KQuantTile.wideAvailable() + "): " + expected + " vs " + got);
                }
            }
        }
    }

    /** The 512-bit tile called directly (so a change in the dispatch cannot route around it), two groups of four pairs, against the twin. */
    @Test
    void theWideTileItselfEqualsTheJavaTwinBitwise() {
        Assumptions.assumeTrue(KQuantTile.wideAvailable(), "needs AVX-512 VNNI: " + Cpu.THIS);
        int rows = 19, cols = 768, blocks = cols / 32, batch = 16;
        for (GgmlType type : new GgmlType[]{GgmlType.Q4_K, GgmlType.Q6_K}) {
            boolean q6 = type == GgmlType.Q6_K;
            SplittableRandom rnd = new SplittableRandom(17 + type.ordinal());
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = weights(type, rows, cols, rnd, false, arena);
                float[] x = vectors(batch, cols, rnd);
                Q8Activations act = new Q8Activations();
                act.quantize(x, batch, cols);
                long rb = type.bytesFor(cols), pairStride = act.pairAddress(1) - act.pairAddress(0);
                MemorySegment prepared = arena.allocate(KQuantTile.preparedRowBytes(q6, blocks) * rows, 64);
                long outStride = 4L * rows + 12;
                MemorySegment out = arena.allocate(KQuantTile.WIDE_VECTORS * outStride);
                KQuantTile.prepare(q6, w.address(), rb, rows, blocks, prepared.address());
                MemorySegment factors = KQuantInt.pairFactors(q6, act, batch / 2);
                for (int g = 0; g < batch; g += KQuantTile.WIDE_VECTORS) {
                    out.fill((byte) 0x7F);
                    KQuantTile.wide(q6, prepared.address(), rows, blocks, act.pairAddress(g / 2), pairStride,
                            factors.address() + (g / 2) * pairStride, out.address(), outStride);
                    for (int t = 0; t < KQuantTile.WIDE_VECTORS; t++) {
                        for (int r = 0; r < rows; r++) {
                            float expected = KQuantInt.rowReference(type, w, r * rb, act, g + t);
                            assertEquals(Float.floatToRawIntBits(expected), out.get(ValueLayout.JAVA_INT, t * outStride + 4L * r),
                                    type + " row " + r + " vector " + (g + t));
                        }
                        assertEquals(0x7F7F7F7F, out.get(ValueLayout.JAVA_INT, t * outStride + 4L * rows), type + " wrote past its rows");
                    }
                }
            }
        }
    }

    /**
     * A vector alone (matrix-vector kernel) and in a batch of 9 (two 4-vector groups or one 8-vector
     * group, and a leftover) or 21 (wide, 4-vector and leftover), over a split row range.
     */
    @ParameterizedTest
    @CsvSource({"9", "21"})
    void aVectorsResultDoesNotDependOnItsBatchOrRowRange(int batch) {
        for (GgmlType type : new GgmlType[]{GgmlType.Q4_K, GgmlType.Q6_K}) {
            int rows = 131, cols = 512;
            SplittableRandom rnd = new SplittableRandom(7);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = weights(type, rows, cols, rnd, false, arena);
                float[] x = vectors(batch, cols, rnd);
                Q8Activations all = new Q8Activations();
                all.quantize(x, batch, cols);
                float[] batched = new float[batch * rows];
                IntKernels.matmul(type, w, 0, cols, 0, 37, all, batched, rows);
                IntKernels.matmul(type, w, 0, cols, 37, rows, all, batched, rows);
                for (int b = 0; b < batch; b++) {
                    Q8Activations one = new Q8Activations();
                    one.quantize(Arrays.copyOfRange(x, b * cols, (b + 1) * cols), 1, cols);
                    float[] alone = new float[rows];
                    IntKernels.matmul(type, w, 0, cols, 0, rows, one, alone, rows);
                    for (int r = 0; r < rows; r++) {
                        assertEquals(Float.floatToRawIntBits(alone[r]), Float.floatToRawIntBits(batched[b * rows + r]), type + " row " + r + " vector " + b);
                    }
                }
            }
        }
    }

    /**
     * Each activation is off by at most half its block's step ({@code max|x| / 254}), so the error
     * is at most {@code Σ_blocks step/2 · Σ|w|}; plus float rounding, relative to the gross terms:
     * for Q4_K both parts of {@code d·sc·q − dmin·m} count, since they may cancel in the weight
     * but are rounded separately. With at most 64 blocks per lane the float rounding stays well
     * within {@code 1e-5} of the gross sum.
     */
    @Test
    void closeToTheExactProductOfTheDequantizedWeights() {
        for (GgmlType type : new GgmlType[]{GgmlType.Q4_K, GgmlType.Q6_K}) {
            Format f = Formats.of(type);
            int rows = 64, cols = 2048;
            SplittableRandom rnd = new SplittableRandom(11);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = weights(type, rows, cols, rnd, true, arena);
                float[] x = vectors(1, cols, rnd);
                Q8Activations act = new Q8Activations();
                act.quantize(x, 1, cols);
                float[] out = new float[rows];
                IntKernels.matmul(type, w, 0, cols, 0, rows, act, out, rows);
                float[] deq = new float[cols];
                double largest = 0;
                for (int r = 0; r < rows; r++) {
                    long offset = r * f.rowBytes(cols);
                    double exact = f.dotReference(w, offset, x, 0, cols);
                    f.dequantize(w, offset, deq, 0, cols);
                    double bound = 0, gross = 0;
                    for (int k = 0; k < cols / 32; k++) {
                        double amax = 0, wsum = 0;
                        for (int i = 32 * k; i < 32 * k + 32; i++) {
                            amax = Math.max(amax, Math.abs(x[i]));
                            wsum += Math.abs(deq[i]);
                        }
                        bound += amax / 254 * wsum;
                        for (int i = 32 * k; i < 32 * k + 32; i++) {
                            gross += grossWeight(type, w, offset, i, deq[i]) * (Math.abs(x[i]) + amax / 254);
                        }
                    }
                    double error = Math.abs(out[r] - exact);
                    assertTrue(error <= bound + 1e-5 * gross, type + " row " + r + ": error " + error + " > bound " + bound);
                    largest = Math.max(largest, error);
                }
                assertTrue(largest > 0, type + ": 8-bit activations cannot be exact here");
            }
        }
    }

    /** |d·sc·q| + |dmin·m| for Q4_K weight {@code i} of the row at {@code offset}; |w| for Q6_K (one product). */
    private static double grossWeight(GgmlType type, MemorySegment w, long offset, int i, float dequantized) {
        if (type != GgmlType.Q4_K) {
            return Math.abs(dequantized);
        }
        long blk = offset + (long) (i / 256) * Q4_K.BLOCK_BYTES;
        int e = i % 256, s = e / 32;
        float d = Float.float16ToFloat(w.get(BlockFormat.HALF, blk + Q4_K.D));
        float dmin = Float.float16ToFloat(w.get(BlockFormat.HALF, blk + Q4_K.DMIN));
        int q = Q4_K.u8(w, blk + Q4_K.QS + 32 * (s / 2) + e % 32);
        q = s % 2 == 0 ? q & 0xf : q >> 4;
        return Math.abs((double) d * Q4_K.scale(w, blk + Q4_K.SCALES, s) * q) + Math.abs((double) dmin * Q4_K.min(w, blk + Q4_K.SCALES, s));
    }
}
