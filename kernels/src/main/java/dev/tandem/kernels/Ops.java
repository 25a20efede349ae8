package dev.tandem.kernels;

import jdk.incubator.vector.FloatVector;
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
        float sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        int bound = S.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, x, off + i).mul(inv).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= inv;
        }
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
        // Scalar Math.exp: the Vector API's EXP gives different bits compiled (SVML) and interpreted.
        for (int i = 0; i < n; i++) {
            float g = gate[gOff + i];
            gate[gOff + i] = g / (1f + (float) Math.exp(-g)) * up[uOff + i];
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
