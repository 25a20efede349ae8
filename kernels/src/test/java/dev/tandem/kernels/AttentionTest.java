package dev.tandem.kernels;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static dev.tandem.kernels.TestData.assertBits;
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
}
