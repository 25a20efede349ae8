package dev.tandem.kernels;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.stream.Stream;

import static dev.tandem.kernels.TestData.BASE;
import static dev.tandem.kernels.TestData.assertBits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every registered format: the vectorized {@code dot} and {@code matmul} against the double
 * {@code dotReference}, batch invariance (matmul at any batch size and row range is bitwise the
 * single-token dot), and the vectorized decoder against the scalar one, bitwise.
 */
class FormatKernelTest {

    /**
     * Relative tolerance of dot/matmul against dotReference, as a fraction of Σ|w·x|. The decoders
     * are exact (checked bitwise below), so the only error is F32 accumulation: n/L fused
     * multiply-adds per lane, L-1 lane additions, the scalar tail, each rounding by at most 2^-24
     * of Σ|w·x|. For the sizes here (n ≤ 1024) at 128 bits that is (256 + 4) · 2^-24 ≈ 1.55e-5.
     * The value is per format so that a format with a lossy fast path must say so here.
     */
    static final Map<GgmlType, Double> DOT_TOLERANCE = new EnumMap<>(GgmlType.class);

    static {
        double f32Accumulation = 2e-5;
        DOT_TOLERANCE.put(GgmlType.F32, f32Accumulation);
        DOT_TOLERANCE.put(GgmlType.F16, f32Accumulation);
        DOT_TOLERANCE.put(GgmlType.BF16, f32Accumulation);
        DOT_TOLERANCE.put(GgmlType.Q8_0, f32Accumulation);
        DOT_TOLERANCE.put(GgmlType.Q4_0, f32Accumulation);
        DOT_TOLERANCE.put(GgmlType.Q4_K, f32Accumulation);
        DOT_TOLERANCE.put(GgmlType.Q5_K, f32Accumulation);
        DOT_TOLERANCE.put(GgmlType.Q6_K, f32Accumulation);
    }

    static final long[] SEEDS = {1, 2, 3};

    @BeforeAll
    static void width() {
        System.out.println("kernel tests at vector width " + Vectors.describe());
    }

    static Stream<Format> formats() {
        return Formats.all().stream();
    }

    /** Row lengths: several whole blocks; for 1-element formats also lengths with a scalar tail at every width. */
    static int[] lengths(Format f) {
        return switch (f.type().blockSize) {
            case 1 -> new int[] {1, 7, 16, 33, 100, 1000};
            case 32 -> new int[] {32, 96, 320, 1024};
            default -> new int[] {256, 768, 1024};
        };
    }

    @Test
    void everyFormatHasATolerance() {
        assertEquals(8, Formats.all().size(), "registered formats");
        for (Format f : Formats.all()) {
            assertTrue(DOT_TOLERANCE.containsKey(f.type()), () -> "no tolerance for " + f.type());
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void dotAndMatmulMatchReference(Format f) {
        double tol = DOT_TOLERANCE.get(f.type());
        for (int n : lengths(f)) {
            for (long seed : SEEDS) {
                MemorySegment w = TestData.randomWeights(f, 3, n, seed);
                float[] x = TestData.randomFloats(2 * n, seed + 100);      // two vectors, x[n..] unused by dot
                float[] out = new float[2 * 3];
                f.matmul(w, BASE, n, 0, 3, x, 2, out, 3);
                float[] row = new float[n];
                for (int r = 0; r < 3; r++) {
                    long off = BASE + r * f.rowBytes(n);
                    f.dequantize(w, off, row, 0, n);
                    for (int b = 0; b < 2; b++) {
                        double abs = 0;
                        for (int i = 0; i < n; i++) {
                            abs += Math.abs((double) row[i] * x[b * n + i]);
                        }
                        float ref = f.dotReference(w, off, x, b * n, n);
                        float dot = f.dot(w, off, x, b * n, n);
                        float mm = out[b * 3 + r];
                        double bound = tol * abs + Math.ulp(ref);
                        String where = f.type() + " n=" + n + " seed=" + seed + " row=" + r + " vector=" + b
                                + " ref=" + ref + " Σ|w·x|=" + abs + " tolerance=" + tol;
                        assertTrue(Math.abs(dot - ref) <= bound, () -> where + ": dot=" + dot);
                        assertTrue(Math.abs(mm - ref) <= bound, () -> where + ": matmul=" + mm);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void matmulIsBatchInvariant(Format f) {
        int[] colsCases = switch (f.type().blockSize) {
            case 1 -> new int[] {100, 128};     // a scalar tail at every width; whole rounds of the four chains
            case 32 -> new int[] {96, 128};     // an odd block count (the fused dot's fallback), an even one (the fused loop)
            default -> new int[] {512, 768};
        };
        for (int cols : colsCases) {
            checkBatchInvariance(f, cols);
        }
    }

    private static void checkBatchInvariance(Format f, int cols) {
        int rows = 6, stride = rows + 2;
        int[][] ranges = {{0, rows}, {0, 1}, {2, 5}, {5, 6}};
        MemorySegment w = TestData.randomWeights(f, rows, cols, 42);
        float[] x = TestData.randomFloats(9 * cols, 43);
        float[][] alone = new float[rows][9];                 // [row][vector]: the single-token dot
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < 9; b++) {
                alone[r][b] = f.dot(w, BASE + r * f.rowBytes(cols), x, b * cols, cols);
            }
        }
        float sentinel = Float.intBitsToFloat(0x7fc0dead);
        for (int batch = 1; batch <= 9; batch++) {
            for (int[] range : ranges) {
                float[] out = new float[batch * stride];
                Arrays.fill(out, sentinel);
                f.matmul(w, BASE, cols, range[0], range[1], x, batch, out, stride);
                for (int b = 0; b < batch; b++) {
                    for (int r = 0; r < stride; r++) {
                        boolean inRange = r >= range[0] && r < range[1];
                        String what = f.type() + " cols=" + cols + " batch=" + batch + " rows=[" + range[0] + ","
                                + range[1] + ") vector=" + b + " row=" + r;
                        if (inRange) {
                            assertBits(alone[r][b], out[b * stride + r], what + " (matmul vs single-token dot)");
                        } else {
                            int bits = Float.floatToRawIntBits(out[b * stride + r]);
                            assertEquals(0x7fc0dead, bits, () -> what + ": written outside the row range");
                        }
                    }
                }
            }
        }
    }

    /**
     * Enough rows for several decoded row blocks (32 rows of 2048 a block) and an odd last row; batch 1
     * (two 16-row lane blocks summed together at 512 bits, then single rows), batches around the
     * 4-vector and 6-vector tiles.
     */
    @ParameterizedTest
    @MethodSource("formats")
    void matmulIsBatchInvariantAcrossRowBlocks(Format f) {
        int rows = 37, cols = 2048;
        MemorySegment w = TestData.randomWeights(f, rows, cols, 44);
        float[] x = TestData.randomFloats(6 * cols, 45);
        for (int batch : new int[] {1, 4, 6}) {
            float[] out = new float[batch * rows];
            f.matmul(w, BASE, cols, 0, rows, x, batch, out, rows);
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < rows; r++) {
                    float alone = f.dot(w, BASE + r * f.rowBytes(cols), x, b * cols, cols);
                    assertBits(alone, out[b * rows + r], f.type() + " cols=" + cols + " rows=" + rows + " batch=" + batch
                            + " vector=" + b + " row=" + r + " (matmul vs single-token dot)");
                }
            }
        }
    }

    /**
     * The 4-row × 6-vector tiles (rows of at most 1024 floats): several 32-row blocks, a row count that
     * leaves 3 rows past the last whole tile, 13 vectors (two tiles of six and one left over), and for
     * the 1-weight formats a scalar tail at 128 bits (259 = 256 + 3).
     */
    @ParameterizedTest
    @MethodSource("formats")
    void matmulIsBatchInvariantInSixVectorTiles(Format f) {
        int rows = 71;
        int cols = switch (f.type().blockSize) {
            case 1 -> 259;
            case 32 -> 256;
            default -> 512;
        };
        MemorySegment w = TestData.randomWeights(f, rows, cols, 46);
        float[] x = TestData.randomFloats(13 * cols, 47);
        for (int batch : new int[] {6, 13}) {
            float[] out = new float[batch * rows];
            f.matmul(w, BASE, cols, 0, rows, x, batch, out, rows);
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < rows; r++) {
                    float alone = f.dot(w, BASE + r * f.rowBytes(cols), x, b * cols, cols);
                    assertBits(alone, out[b * rows + r], f.type() + " cols=" + cols + " rows=" + rows + " batch=" + batch
                            + " vector=" + b + " row=" + r + " (matmul vs single-token dot)");
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void fastDecodeIsBitwiseScalarDecode(Format f) {
        if (!(f instanceof BlockFormat bf)) {
            return;    // F32 has no decoder: its dot reads the weights directly
        }
        for (int n : lengths(f)) {
            for (long seed : SEEDS) {
                MemorySegment w = TestData.randomWeights(f, 1, n, seed);
                float[] slow = new float[n + 5], fast = new float[n + 5];
                bf.dequantize(w, BASE, slow, 5, n);
                bf.dequantizeFast(w, BASE, fast, 5, n);
                for (int i = 0; i < n + 5; i++) {
                    assertBits(slow[i], fast[i], f.type() + " n=" + n + " seed=" + seed + " out index " + i);
                }
            }
        }
    }

    /** All 65536 bit patterns of F16 and BF16 through both decoders (including a scalar tail). */
    @Test
    void halfDecodersAgreeOnEveryBitPattern() {
        MemorySegment all = MemorySegment.ofArray(new byte[2 + 2 * 65536]);
        for (int h = 0; h < 65536; h++) {
            all.set(TestData.HALF, 2 + 2L * h, (short) h);
        }
        for (BlockFormat f : new BlockFormat[] {F16.INSTANCE, BF16.INSTANCE}) {
            for (int start : new int[] {0, 1}) {
                int n = 65536 - start;
                float[] slow = new float[n], fast = new float[n];
                f.dequantize(all, 2 + 2L * start, slow, 0, n);
                f.dequantizeFast(all, 2 + 2L * start, fast, 0, n);
                for (int i = 0; i < n; i++) {
                    assertBits(slow[i], fast[i], f.type() + " bits 0x" + Integer.toHexString(start + i));
                }
            }
        }
    }
}
