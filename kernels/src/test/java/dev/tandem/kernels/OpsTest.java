package dev.tandem.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.tandem.kernels.TestData.assertBits;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Ops} against its {@code ...Reference} twins (double), with a named tolerance per operation. */
class OpsTest {
    private static final double U = 0x1p-24;   // float unit roundoff

    /** RMSNorm, relative per element: the float sum of squares over n/L lanes ((n/L + L)·u, ≤ 4.1e-6 for n ≤ 257), halved by the sqrt, plus 3 roundings. */
    static final double RMSNORM_RELATIVE = 1e-5;
    /** RoPE, relative to |x0| + |x1| of the pair: cos/sin rounded to float (u each) and 3 float roundings. */
    static final double ROPE_RELATIVE = 6 * U;
    /** Softmax, relative per element for n terms: the float sum of n positive terms ((n - 1)·u), exp and the final multiply. */
    static double softmaxRelative(int n) {
        return (n + 3) * U;
    }
    /** SwiGLU, relative per element: the vector exp (within a couple of ulps), add, divide, multiply. */
    static final double SWIGLU_RELATIVE = 1e-6;

    static final int[] LENGTHS = {1, 7, 16, 64, 100, 257};

    @Test
    void rmsnormMatchesReference() {
        for (int n : LENGTHS) {
            for (long seed = 1; seed <= 3; seed++) {
                float[] x = TestData.randomFloats(n + 3, seed), w = TestData.randomFloats(n + 1, seed + 10);
                float[] out = new float[n + 2], ref = new float[n + 2];
                Ops.rmsnorm(out, 2, x, 3, w, 1, n, 1e-5f);
                Ops.rmsnormReference(ref, 2, x, 3, w, 1, n, 1e-5f);
                for (int i = 0; i < n + 2; i++) {
                    int at = i;
                    long s = seed;
                    assertTrue(Math.abs(out[i] - ref[i]) <= RMSNORM_RELATIVE * Math.abs(ref[i]),
                            () -> "rmsnorm n=" + n + " seed=" + s + " i=" + at + ": " + out[at] + " vs reference " + ref[at]);
                }
            }
        }
    }

    @Test
    void ropeMatchesReference() {
        int heads = 3, headDim = 64;
        float[] factors = new float[32];
        Random rnd = new Random(5);
        for (int i = 0; i < factors.length; i++) {
            factors[i] = 1 + 7 * rnd.nextFloat();
        }
        for (boolean neox : new boolean[] {false, true}) {
            for (float[] ff : new float[][] {null, factors}) {
                for (int rotDim : new int[] {64, 32}) {          // 32: partial rotation, dims 32..63 untouched
                    for (int pos : new int[] {0, 1, 17, 4095}) {
                        for (double base : new double[] {10000, 500000}) {
                            float[] x = TestData.randomFloats(2 + heads * headDim, pos * 31L + rotDim);
                            float[] ours = x.clone(), ref = x.clone();
                            float[] cos = new float[rotDim / 2], sin = new float[rotDim / 2];
                            Ops.ropeAngles(pos, rotDim, base, ff == null ? null : java.util.Arrays.copyOf(ff, rotDim / 2), cos, sin);
                            Ops.rope(ours, 2, heads, headDim, rotDim, cos, sin, neox);
                            Ops.ropeReference(ref, 2, heads, headDim, rotDim, pos, base, ff == null ? null : java.util.Arrays.copyOf(ff, rotDim / 2), neox);
                            String where = (neox ? "NEOX" : "normal") + " rope, freq factors " + (ff != null) + ", rotDim=" + rotDim
                                    + " pos=" + pos + " base=" + base;
                            for (int h = 0; h < heads; h++) {
                                int b = 2 + h * headDim;
                                for (int i = 0; i < rotDim / 2; i++) {
                                    int i0 = neox ? b + i : b + 2 * i, i1 = neox ? b + i + rotDim / 2 : b + 2 * i + 1;
                                    double mag = Math.abs(x[i0]) + Math.abs(x[i1]);
                                    for (int k : new int[] {i0, i1}) {
                                        assertTrue(Math.abs(ours[k] - ref[k]) <= ROPE_RELATIVE * mag,
                                                () -> where + " index " + k + ": " + ours[k] + " vs reference " + ref[k]);
                                    }
                                }
                                for (int i = rotDim; i < headDim; i++) {
                                    assertBits(x[b + i], ours[b + i], where + " unrotated dim " + i);
                                }
                            }
                            assertBits(x[0], ours[0], where + " before the heads");
                        }
                    }
                }
            }
        }
    }

    @Test
    void softmaxMatchesReference() {
        for (int n : new int[] {1, 5, 16, 100, 1000}) {
            for (long seed = 1; seed <= 3; seed++) {
                float[] x = TestData.randomFloats(n + 2, seed);
                for (int i = 0; i < x.length; i++) {
                    x[i] *= 10;
                }
                if (n > 3) {
                    x[3] = Float.NEGATIVE_INFINITY;      // a masked position
                }
                float[] ours = x.clone(), ref = x.clone();
                Ops.softmax(ours, 1, n);
                Ops.softmaxReference(ref, 1, n);
                double tol = softmaxRelative(n);
                for (int i = 0; i < n + 2; i++) {
                    int at = i;
                    long s = seed;
                    assertTrue(Math.abs(ours[i] - ref[i]) <= tol * Math.abs(ref[i]),
                            () -> "softmax n=" + n + " seed=" + s + " i=" + at + ": " + ours[at] + " vs reference " + ref[at]);
                }
                if (n > 3) {
                    assertBits(0f, ours[3], "softmax of -inf");
                }
            }
        }
    }

    @Test
    void swigluMatchesReference() {
        for (int n : LENGTHS) {
            for (long seed = 1; seed <= 3; seed++) {
                float[] g = TestData.randomFloats(n + 1, seed), up = TestData.randomFloats(n + 2, seed + 20);
                for (int i = 0; i < g.length; i++) {
                    g[i] *= 20;                           // silu over [-20, 20]
                }
                float[] ours = g.clone(), ref = g.clone();
                Ops.swiglu(ours, 1, up, 2, n);
                Ops.swigluReference(ref, 1, up, 2, n);
                for (int i = 0; i < n + 1; i++) {
                    int at = i;
                    long s = seed;
                    assertTrue(Math.abs(ours[i] - ref[i]) <= SWIGLU_RELATIVE * Math.abs(ref[i]),
                            () -> "swiglu n=" + n + " seed=" + s + " i=" + at + ": " + ours[at] + " vs reference " + ref[at]);
                }
            }
        }
    }

    /** axpy is one fused multiply-add per element and add one addition: exact answers, bitwise. */
    @Test
    void axpyAndAddAreExact() {
        for (int n : LENGTHS) {
            float[] x = TestData.randomFloats(n + 1, n), y = TestData.randomFloats(n + 2, n + 1);
            float a = 0.7310586f;
            float[] ax = y.clone(), sum = y.clone();
            Ops.axpy(ax, 2, a, x, 1, n);
            Ops.add(sum, 2, x, 1, n);
            for (int i = 0; i < n + 2; i++) {
                boolean in = i >= 2;
                float wantAxpy = in ? Math.fma(x[i - 1], a, y[i]) : y[i];
                float wantAdd = in ? y[i] + x[i - 1] : y[i];
                assertBits(wantAxpy, ax[i], "axpy n=" + n + " i=" + i);
                assertBits(wantAdd, sum[i], "add n=" + n + " i=" + i);
            }
        }
    }

    /** Ops.exp: vector lanes and the scalar twin give the same bits, and both stay within 2 ulp of the exact value. */
    @Test
    void expIsTheSameInVectorsAndScalarsAndWithinTwoUlp() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(9);
        float[] special = {0f, -0f, 1f, -1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -87.33654f, -87.34f, -87.3f,
                88f, 88.0001f, 88.7f, -103f, 1e-8f, -1e-8f, Float.MIN_VALUE, 0.34657359f, -0.34657359f};
        int lanes = Vectors.LANES;
        float[] x = new float[lanes];
        double worst = 0;
        for (int round = 0; round < 20000; round++) {
            for (int l = 0; l < lanes; l++) {
                int k = round * lanes + l;
                x[l] = k < special.length ? special[k] : (float) (rnd.nextDouble() * 175.3 - 87.3);
            }
            float[] y = new float[lanes];
            Ops.exp(jdk.incubator.vector.FloatVector.fromArray(Vectors.F, x, 0)).intoArray(y, 0);
            for (int l = 0; l < lanes; l++) {
                float scalar = Ops.exp(x[l]);
                assertBits(scalar, y[l], "exp(" + x[l] + ")");
                if (x[l] >= -87.33654f && x[l] <= 88f) {
                    double exact = Math.exp(x[l]);
                    worst = Math.max(worst, Math.abs(scalar - exact) / Math.ulp((float) exact));
                } else if (x[l] < -87.33654f) {
                    assertBits(0f, scalar, "exp(" + x[l] + ")");
                } else if (x[l] > 88f) {
                    assertBits(Float.POSITIVE_INFINITY, scalar, "exp(" + x[l] + ")");
                } else {
                    assertTrue(Float.isNaN(scalar), "exp(NaN)");
                }
            }
        }
        double w = worst;
        assertTrue(worst <= 2, () -> "exp is " + w + " ulp from exact");
        System.out.println("Ops.exp: at most " + worst + " ulp from exact");
    }
}
