package dev.tandem.kernels;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static dev.tandem.kernels.TestData.assertBits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Attention#attend} over paged KV storage against {@link Attention#attendReference}. */
class AttentionTest {
    /**
     * Absolute, in units of max|v|: scores carry the float dot error (≈ headDim/L·u of Σ|q·k|,
     * here |scores| ≤ 2.5), the softmax its sum error, and the output n axpy roundings.
     */
    static final double ATTEND_TOLERANCE = 1e-5;

    static final int PAGE = 4, KV_HEADS = 3, HEAD_DIM = 64, GQA = 2;
    static final int ROW = KV_HEADS * HEAD_DIM + 5;           // floats per cache row, with padding
    /** Physical pages of the sequence, out of order and with gaps: logical page p lives in page PAGES[p]. */
    static final int[] PAGES = {5, 2, 7, 0, 3};

    @Test
    void pagedAttentionMatchesReference() {
        int physicalRows = 8 * PAGE;
        float[] k = new float[physicalRows * ROW], v = new float[physicalRows * ROW];
        Arrays.fill(k, Float.NaN);                                  // rows not in the sequence poison the result if read
        Arrays.fill(v, Float.NaN);
        float[] kData = TestData.randomFloats(PAGES.length * PAGE * ROW, 11), vData = TestData.randomFloats(PAGES.length * PAGE * ROW, 12);
        for (int t = 0; t < PAGES.length * PAGE; t++) {
            int row = Attention.rowOffset(PAGES, PAGE, ROW, t);
            System.arraycopy(kData, t * ROW, k, row, ROW);
            System.arraycopy(vData, t * ROW, v, row, ROW);
        }
        float[] q = TestData.randomFloats(KV_HEADS * GQA * HEAD_DIM, 13);
        float scale = (float) (1 / Math.sqrt(HEAD_DIM));
        float[] scores = new float[PAGES.length * PAGE];
        for (int n : new int[] {1, 3, 4, 5, 13, 20}) {
            for (int qh = 0; qh < KV_HEADS * GQA; qh++) {
                int kvh = qh / GQA;
                float[] out = new float[HEAD_DIM + 2], ref = new float[HEAD_DIM + 2];
                Attention.attend(q, qh * HEAD_DIM, HEAD_DIM, k, v, PAGES, PAGE, ROW, kvh * HEAD_DIM, n, scale, scores, out, 1);
                Attention.attendReference(q, qh * HEAD_DIM, HEAD_DIM, k, v, PAGES, PAGE, ROW, kvh * HEAD_DIM, n, scale, ref, 1);
                for (int i = 0; i < HEAD_DIM + 2; i++) {
                    int at = i, head = qh;
                    assertTrue(Math.abs(out[i] - ref[i]) <= ATTEND_TOLERANCE,   // |v| ≤ 1
                            () -> "attend n=" + n + " query head " + head + " dim " + at + ": " + out[at] + " vs reference " + ref[at]);
                }

                // the same sequence stored contiguously (pages 0, 1, 2, ...) gives the same bits
                float[] flat = new float[HEAD_DIM + 2];
                int[] identity = {0, 1, 2, 3, 4};
                Attention.attend(q, qh * HEAD_DIM, HEAD_DIM, kData, vData, identity, PAGE, ROW, kvh * HEAD_DIM, n, scale, scores, flat, 1);
                for (int i = 0; i < HEAD_DIM + 2; i++) {
                    assertBits(flat[i], out[i], "attend n=" + n + " query head " + qh + " dim " + i + ": paged vs contiguous");
                }
            }
        }
    }

    /** F16 storage: {@code attendHalf} gives exactly what {@code attend} gives on the cache widened to floats. */
    @Test
    void halfStorageMatchesAttendOnTheWidenedCache() {
        int rows = 8 * PAGE;
        float[] data = TestData.randomFloats(2 * rows * ROW, 21);
        short[] kh = new short[rows * ROW], vh = new short[rows * ROW];
        float[] k = new float[rows * ROW], v = new float[rows * ROW];
        for (int i = 0; i < rows * ROW; i++) {
            kh[i] = Float.floatToFloat16(data[i]);
            vh[i] = Float.floatToFloat16(data[rows * ROW + i]);
            k[i] = Float.float16ToFloat(kh[i]);
            v[i] = Float.float16ToFloat(vh[i]);
        }
        float[] q = TestData.randomFloats(KV_HEADS * GQA * HEAD_DIM, 23);
        float scale = (float) (1 / Math.sqrt(HEAD_DIM));
        float[] scores = new float[PAGES.length * PAGE], row = new float[HEAD_DIM];
        for (int n : new int[] {1, 4, 7, 20}) {
            for (int qh = 0; qh < KV_HEADS * GQA; qh++) {
                int kvh = qh / GQA;
                float[] want = new float[HEAD_DIM], got = new float[HEAD_DIM];
                Attention.attend(q, qh * HEAD_DIM, HEAD_DIM, k, v, PAGES, PAGE, ROW, kvh * HEAD_DIM, n, scale, scores, want, 0);
                Attention.attendHalf(q, qh * HEAD_DIM, HEAD_DIM, kh, vh, PAGES, PAGE, ROW, kvh * HEAD_DIM, n, scale, scores, row, got, 0);
                for (int i = 0; i < HEAD_DIM; i++) {
                    assertBits(want[i], got[i], "attendHalf n=" + n + " query head " + qh + " dim " + i);
                }
            }
        }
    }

    /** {@code F16.widen} is {@code Float.float16ToFloat} for every one of the 65536 bit patterns (NaNs stay NaN). */
    @Test
    void widenIsExactForEveryHalf() {
        short[] all = new short[1 << 16];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        float[] out = new float[all.length + 3];
        F16.widen(all, 0, out, 3, all.length);
        for (int i = 0; i < all.length; i++) {
            float want = Float.float16ToFloat(all[i]);
            if (Float.isNaN(want)) {
                assertTrue(Float.isNaN(out[i + 3]), "half 0x" + Integer.toHexString(i) + " is NaN, widened to " + out[i + 3]);
            } else {
                assertBits(want, out[i + 3], "half 0x" + Integer.toHexString(i));
            }
        }
    }

    @Test
    void weightedSumIsAxpyPerPositionBitwise() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        for (int headDim : new int[]{4, 17, 64, 80, 128, 130}) {
            int pageSize = 7, rowStride = 3 * headDim + 5, n = 40, headOffset = headDim + 2;
            int[] pages = {4, 0, 2, 5, 1, 3};
            float[] v = new float[(pages.length * pageSize + 1) * rowStride];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) rnd.nextGaussian();
            }
            float[] scores = new float[n];
            for (int t = 0; t < n; t++) {
                scores[t] = (float) rnd.nextDouble();
            }
            float[] expected = new float[headDim + 3], got = new float[headDim + 3];
            for (int t = 0; t < n; t++) {
                Ops.axpy(expected, 3, scores[t], v, Attention.rowOffset(pages, pageSize, rowStride, t) + headOffset, headDim);
            }
            Attention.weightedSum(scores, v, pages, pageSize, rowStride, headOffset, n, headDim, got, 3);
            for (int i = 0; i < headDim; i++) {
                assertEquals(Float.floatToRawIntBits(expected[3 + i]), Float.floatToRawIntBits(got[3 + i]), "headDim " + headDim + " element " + i);
            }
        }
    }

    @Test
    void nativeAttentionIsTheJavaCodeBitwise() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Attention.nativeFits(64, 16),
                "native attention not used here (" + dev.tandem.kernels.x86.AttentionDot.UNAVAILABLE + ", " + Vectors.LANES + " lanes)");
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
        for (int headDim : new int[]{16, 48, 64, 128, 256}) {
            for (int pageSize : new int[]{16, 32}) {
                int kvHeads = 2, rowStride = kvHeads * headDim, pagesTotal = 40;
                float[] k = new float[pagesTotal * pageSize * rowStride], v = new float[k.length];
                for (int i = 0; i < k.length; i++) {
                    k[i] = (float) rnd.nextGaussian();
                    v[i] = (float) rnd.nextGaussian();
                }
                int[] pages = new int[pagesTotal];
                for (int i = 0; i < pagesTotal; i++) {
                    pages[i] = (i * 7 + 3) % pagesTotal;
                }
                float[] q = new float[3 * headDim];
                for (int i = 0; i < q.length; i++) {
                    q[i] = (float) rnd.nextGaussian();
                }
                for (int n : new int[]{1, 15, 16, 17, 33, 100, 512}) {
                    if (n > pagesTotal * pageSize) {
                        continue;
                    }
                    // rows past n in the last block: garbage the kernel reads and must drop
                    int last = pages[(n - 1) / pageSize] * pageSize;
                    for (int t = n % pageSize; n % pageSize != 0 && t < pageSize; t++) {
                        Arrays.fill(k, (last + t) * rowStride, (last + t + 1) * rowStride, Float.NaN);
                    }
                    float scale = (float) (1 / Math.sqrt(headDim));
                    float[] expected = new float[headDim + 1], got = new float[headDim + 1];
                    float[] s1 = new float[n], s2 = new float[n];
                    Attention.attend(q, headDim, headDim, k, v, pages, pageSize, rowStride, headDim, n, scale, s1, expected, 1);
                    Attention.attend(q, headDim, headDim, k, v, java.lang.foreign.MemorySegment.ofArray(k), java.lang.foreign.MemorySegment.ofArray(v),
                            pages, pageSize, rowStride, headDim, n, scale, s2, got, 1);
                    for (int i = 0; i <= headDim; i++) {
                        assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]),
                                "head " + headDim + " page " + pageSize + " n " + n + " element " + i);
                    }
                    for (int t = n % pageSize; n % pageSize != 0 && t < pageSize; t++) {
                        for (int i = (last + t) * rowStride; i < (last + t + 1) * rowStride; i++) {
                            k[i] = (float) rnd.nextGaussian();
                        }
                    }
                }
            }
        }
    }
}
