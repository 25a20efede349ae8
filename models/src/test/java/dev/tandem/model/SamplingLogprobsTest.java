package dev.tandem.model;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplingLogprobsTest {

    /** Against log-softmax in double with Math.exp / Math.log: our exp's relative error, as an absolute log error. */
    private static final double LOGPROB_TOLERANCE = 1e-6;

    private static double[] reference(float[] l) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : l) {
            max = Math.max(max, x);
        }
        double z = 0;
        for (float x : l) {
            z += Math.exp(x - max);
        }
        double lse = max + Math.log(z);
        double[] out = new double[l.length];
        for (int i = 0; i < l.length; i++) {
            out[i] = l[i] - lse;
        }
        return out;
    }

    @Test
    void logSoftmaxMatchesTheReference() {
        SplittableRandom r = new SplittableRandom(3);
        for (int n : new int[]{1, 5, 17, 1000}) {
            float[] l = new float[n + 2];
            for (int i = 0; i < l.length; i++) {
                l[i] = (float) r.nextGaussian() * 4;
            }
            float[] row = Arrays.copyOfRange(l, 2, n + 2);
            double[] want = reference(row);
            float[] got = new float[n + 1];
            SamplingLogprobs.logSoftmax(l, 2, n, got, 1);
            double lse = SamplingLogprobs.logSumExp(l, 2, n);
            for (int i = 0; i < n; i++) {
                // plus the float rounding of the output itself (half an ulp of |want|)
                assertEquals(want[i], got[1 + i], LOGPROB_TOLERANCE + Math.abs(want[i]) * 1e-7, "n " + n + " token " + i);
                assertEquals(got[1 + i], SamplingLogprobs.logprob(l, 2, i, lse), "logprob agrees with logSoftmax");
            }
        }
    }

    @Test
    void topLogprobsAreTheBestInOrderWithTiesToTheLowestId() {
        float[] l = {1f, 3f, 2f, 3f, -1f, 2f, Float.NaN};
        double lse = SamplingLogprobs.logSumExp(l, 0, l.length);
        double[] want = reference(new float[]{1f, 3f, 2f, 3f, -1f, 2f, Float.NEGATIVE_INFINITY});
        int[] ids = new int[4];
        float[] values = new float[4];
        assertEquals(4, SamplingLogprobs.topLogprobs(l, 0, l.length, lse, 4, ids, values));
        assertArrayEquals(new int[]{1, 3, 2, 5}, ids);
        for (int j = 0; j < 4; j++) {
            assertEquals(want[ids[j]], values[j], LOGPROB_TOLERANCE, "rank " + j);
        }
        int[] many = new int[10];
        float[] manyValues = new float[10];
        assertEquals(7, SamplingLogprobs.topLogprobs(l, 0, l.length, lse, 10, many, manyValues), "at most n entries");
        assertArrayEquals(new int[]{1, 3, 2, 5, 0, 4, 6}, Arrays.copyOf(many, 7));
        assertEquals(Float.NEGATIVE_INFINITY, manyValues[6], "NaN logit reads as -inf");
        assertEquals(0, SamplingLogprobs.topLogprobs(l, 0, l.length, lse, 0, many, manyValues));
    }

    @Test
    void topLogprobsOnALongRowMatchAFullSort() {
        SplittableRandom r = new SplittableRandom(9);
        int n = 5000;
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = r.nextInt(40) / 4f; // many ties
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> l[a] != l[b] ? Float.compare(l[b], l[a]) : Integer.compare(a, b));
        int[] ids = new int[20];
        float[] values = new float[20];
        SamplingLogprobs.topLogprobs(l, 0, n, SamplingLogprobs.logSumExp(l, 0, n), 20, ids, values);
        for (int j = 0; j < 20; j++) {
            assertEquals(order[j], ids[j], "rank " + j);
        }
    }

    @Test
    void rawLogitsIgnoreSamplingParameters() {
        // The same row gives the same logprobs whatever the sampler did with it: they are the model's distribution.
        float[] l = {2f, 1f, 0f};
        double lse = SamplingLogprobs.logSumExp(l, 0, 3);
        Sampler s = new Sampler(new SamplingParams(0.1f, 1, 0.5f, 0.5f, 3f, 2f, 2f, -1, 1L), 3);
        s.accept(0);
        s.sample(l, 0, 3);
        assertEquals(lse, SamplingLogprobs.logSumExp(l, 0, 3));
        assertTrue(Math.abs(SamplingLogprobs.logprob(l, 0, 2, lse) - reference(l)[2]) < LOGPROB_TOLERANCE);
    }

    @Test
    void degenerateRows() {
        float[] none = {Float.NEGATIVE_INFINITY, Float.NaN};
        assertEquals(Double.NEGATIVE_INFINITY, SamplingLogprobs.logSumExp(none, 0, 2));
        float[] out = new float[2];
        SamplingLogprobs.logSoftmax(none, 0, 2, out, 0);
        assertTrue(Float.isNaN(out[0]) && Float.isNaN(out[1]), "no distribution at all: " + Arrays.toString(out));
        float[] inf = {Float.POSITIVE_INFINITY, 0f};
        double lse = SamplingLogprobs.logSumExp(inf, 0, 2);
        assertEquals(0f, SamplingLogprobs.logprob(inf, 0, 0, lse), "+inf reads as the largest float and takes all the mass");
        assertThrows(IllegalArgumentException.class, () -> SamplingLogprobs.logSumExp(new float[3], 1, 3));
        assertThrows(IllegalArgumentException.class,
                () -> SamplingLogprobs.topLogprobs(new float[3], 0, 3, 0, 5, new int[4], new float[5]));
    }
}
