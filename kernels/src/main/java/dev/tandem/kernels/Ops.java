package dev.tandem.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The non-matmul operations of a transformer layer, each with a scalar twin
 * ({@code ...Reference}) that the tests compare against. All work in place on F32 arrays with
 * explicit offsets, allocate nothing, and have one fixed reduction order.
 */
public final class Ops {
    private static final VectorSpecies<Float> S = Vectors.F;
    private static final int L = Vectors.LANES;

    private Ops() {}

    // ---- RMSNorm: out[i] = x[i] / sqrt(mean(x²) + eps) * w[i] ----

    public static void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int wOff, int n, float eps) {
        float ss = Dot.dot(x, xOff, x, xOff, n);
        float scale = (float) (1.0 / Math.sqrt(ss / n + (double) eps));
        int bound = S.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, x, xOff + i).mul(scale).mul(FloatVector.fromArray(S, w, wOff + i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = x[xOff + i] * scale * w[wOff + i];
        }
    }

    public static void rmsnormReference(float[] out, int outOff, float[] x, int xOff, float[] w, int wOff, int n, float eps) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += (double) x[xOff + i] * x[xOff + i];
        }
        double scale = 1.0 / Math.sqrt(ss / n + eps);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = (float) (x[xOff + i] * scale * w[wOff + i]);
        }
    }

    // ---- RoPE ----

    /**
     * The rotation of one position: {@code cos[i], sin[i]} for each of the {@code rotDim / 2}
     * frequency pairs, angle {@code pos · base^(-2i/rotDim) / freqFactors[i]} computed in double.
     * {@code freqFactors} may be null (all ones).
     */
    public static void ropeAngles(int pos, int rotDim, double base, float[] freqFactors, float[] cos, float[] sin) {
        for (int i = 0; i < rotDim / 2; i++) {
            double freq = Math.pow(base, -2.0 * i / rotDim);
            if (freqFactors != null) {
                freq /= freqFactors[i];
            }
            double angle = pos * freq;
            cos[i] = (float) Math.cos(angle);
            sin[i] = (float) Math.sin(angle);
        }
    }

    /**
     * Rotates the first {@code rotDim} dims of each of {@code heads} heads of {@code headDim} in
     * {@code x[off..]}. Normal layout rotates adjacent pairs (2i, 2i+1); NEOX rotates (i, i + rotDim/2).
     */
    public static void rope(float[] x, int off, int heads, int headDim, int rotDim, float[] cos, float[] sin, boolean neox) {
        int half = rotDim / 2;
        for (int h = 0; h < heads; h++) {
            int base = off + h * headDim;
            for (int i = 0; i < half; i++) {
                int i0 = neox ? base + i : base + 2 * i;
                int i1 = neox ? base + i + half : base + 2 * i + 1;
                float x0 = x[i0], x1 = x[i1];
                x[i0] = x0 * cos[i] - x1 * sin[i];
                x[i1] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }

    /** Scalar twin of {@link #ropeAngles} + {@link #rope}, all in double. */
    public static void ropeReference(float[] x, int off, int heads, int headDim, int rotDim, int pos, double base,
                                     float[] freqFactors, boolean neox) {
        int half = rotDim / 2;
        for (int h = 0; h < heads; h++) {
            int b = off + h * headDim;
            for (int i = 0; i < half; i++) {
                double freq = Math.pow(base, -2.0 * i / rotDim) / (freqFactors == null ? 1.0 : freqFactors[i]);
                double c = Math.cos(pos * freq), s = Math.sin(pos * freq);
                int i0 = neox ? b + i : b + 2 * i;
                int i1 = neox ? b + i + half : b + 2 * i + 1;
                double x0 = x[i0], x1 = x[i1];
                x[i0] = (float) (x0 * c - x1 * s);
                x[i1] = (float) (x0 * s + x1 * c);
            }
        }
    }

    // ---- softmax over x[off .. off+n) in place ----

    public static void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        // e = exp(x - max) in vectors; the sum lane-wise in index order, then the lanes in order, then the tail
        int bound = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector e = exp(FloatVector.fromArray(S, x, off + i).sub(max));
            e.intoArray(x, off + i);
            acc = acc.add(e);
        }
        // the lanes through a per-thread array: a vector passed to a method the JIT does not inline is
        // boxed (an allocation per call), and a decode step must allocate nothing
        float[] lanes = BlockFormat.lanes();
        acc.intoArray(lanes, 0);
        float sum = Dot.sumLanes(lanes, 0);
        for (; i < n; i++) {
            float e = exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (i = 0; i < bound; i += L) {
            FloatVector.fromArray(S, x, off + i).mul(inv).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    // ---- exp: the same bits from the vector and the scalar code ----

    /*
     * Cody-Waite reduction x = n·ln2 + r (ln2 in two parts) and Cephes' expf polynomial for e^r, then
     * 2^n from its exponent bits. Only operations the Vector API defines exactly (multiply, add, fused
     * multiply-add, min / max, conversion of an integral float, shifts), so compiled, interpreted and
     * scalar code agree bitwise, which the Vector API's own EXP does not promise. Within 2 ulp of the
     * exact value (OpsTest); below -87.33 (where 2^n would leave the normal range) 0, above 88 +inf
     * (exp(88) = 1.65e38 is near the largest float), NaN stays NaN.
     */
    private static final float EXP_LO = -87.33654f, EXP_HI = 88f;
    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f;             // 1.5 · 2^23: adding and subtracting it rounds to an integer
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
            P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;
    private static final VectorSpecies<Integer> I = S.withLanes(int.class);

    /** e^x lane-wise (see above). */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(EXP_LO).min(EXP_HI);
        FloatVector n = xc.mul(LOG2E).add(ROUND).sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(S, P0).fma(r, FloatVector.broadcast(S, P1));
        p = p.fma(r, FloatVector.broadcast(S, P2));
        p = p.fma(r, FloatVector.broadcast(S, P3));
        p = p.fma(r, FloatVector.broadcast(S, P4));
        p = p.fma(r, FloatVector.broadcast(S, P5));
        p = p.fma(r.mul(r), r).add(1f);                       // p·r² + r, then + 1
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector y = p.mul(bits.reinterpretAsFloats());
        return y.blend(0f, x.lt(EXP_LO)).blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_HI));
    }

    /** e^x: {@link #exp(FloatVector)}'s operations on one float. */
    static float exp(float x) {
        float xc = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float n = xc * LOG2E + ROUND - ROUND;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(P0, r, P1), r, P2), r, P3), r, P4), r, P5);
        p = Math.fma(p, r * r, r) + 1f;
        float y = p * Float.intBitsToFloat(((int) n + 127) << 23);
        return x < EXP_LO ? 0f : x > EXP_HI ? Float.POSITIVE_INFINITY : y;
    }

    public static void softmaxReference(float[] x, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        double sum = 0;
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            e[i] = Math.exp(x[off + i] - max);
            sum += e[i];
        }
        for (int i = 0; i < n; i++) {
            x[off + i] = (float) (e[i] / sum);
        }
    }

    // ---- SwiGLU: gate[i] = silu(gate[i]) * up[i] ----

    public static void swiglu(float[] gate, int gOff, float[] up, int uOff, int n) {
        // exp in vectors (Ops.exp: the same bits compiled, interpreted and in the scalar tail)
        int bound = S.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(S, gate, gOff + i);
            g.div(exp(g.neg()).add(1f)).mul(FloatVector.fromArray(S, up, uOff + i)).intoArray(gate, gOff + i);
        }
        for (; i < n; i++) {
            float g = gate[gOff + i];
            gate[gOff + i] = g / (1f + exp(-g)) * up[uOff + i];
        }
    }

    public static void swigluReference(float[] gate, int gOff, float[] up, int uOff, int n) {
        for (int i = 0; i < n; i++) {
            double g = gate[gOff + i];
            gate[gOff + i] = (float) (g / (1 + Math.exp(-g)) * up[uOff + i]);
        }
    }

    // ---- y += a * x ----

    public static void axpy(float[] y, int yOff, float a, float[] x, int xOff, int n) {
        int bound = S.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(FloatVector.broadcast(S, a), FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] = Math.fma(x[xOff + i], a, y[yOff + i]);
        }
    }

    /** {@code y[i] += x[i]}. */
    public static void add(float[] y, int yOff, float[] x, int xOff, int n) {
        int bound = S.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, x, xOff + i).add(FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += x[xOff + i];
        }
    }
}
