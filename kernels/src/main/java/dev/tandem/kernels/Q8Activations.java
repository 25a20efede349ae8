package dev.tandem.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Activation vectors quantized to 8-bit blocks of 32, for the integer kernels ({@link IntKernels}):
 * per block {@code dx = max|x| / 127} and {@code q[i] = round(x[i] / dx)} (halves away from zero),
 * llama.cpp's Q8_0 quantization of activations except that {@code dx} stays a float. Each vector
 * is quantized on its own, so a token's quantization never depends on the batch it is in.
 *
 * <p>Layout of one vector of {@code blocks} blocks, in native memory (the layout the native
 * kernels read): {@code 32·blocks} bytes {@code q}; then per block 8 copies of {@code dx} (float);
 * then per block 8 ints, lane {@code l} = {@code −8 · (q[4l] + q[4l+1] + q[4l+2] + q[4l+3])} (Q4_0's
 * offset of 8, taken off by starting the lane's integer sum there); then per block the lane sums
 * times −128 (Q8_0's offset, when its weights are read as unsigned bytes).
 */
public final class Q8Activations {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private MemorySegment seg = MemorySegment.NULL;
    private int blocks;
    private int count;

    /** Bytes of one quantized vector of {@code blocks} blocks. */
    static long stride(int blocks) {
        return 128L * blocks;
    }

    /** Quantizes {@code batch} vectors {@code x[b · cols ..]} of {@code cols} floats ({@code cols % 32 == 0}). */
    public void quantize(float[] x, int batch, int cols) {
        if (cols % 32 != 0 || cols == 0) {
            throw new IllegalArgumentException(cols + " is not a positive multiple of 32");
        }
        blocks = cols / 32;
        count = batch;
        long need = stride(blocks) * batch;
        if (seg.byteSize() < need) {
            seg = Arena.ofAuto().allocate(Math.max(need, 2 * seg.byteSize()), 64);
        }
        for (int b = 0; b < batch; b++) {
            quantizeOne(x, b * cols, b);
        }
    }

    private void quantizeOne(float[] x, int xOff, int token) {
        long base = stride(blocks) * token, scales = base + 32L * blocks, sums = base + 64L * blocks, sums128 = base + 96L * blocks;
        for (int k = 0; k < blocks; k++) {
            int s = xOff + 32 * k;
            float amax = 0;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(x[s + i]));
            }
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            for (int l = 0; l < 8; l++) {
                int sum = 0;
                for (int j = 0; j < 4; j++) {
                    int q = Math.max(-127, Math.min(127, Q8_0.roundHalfAway(x[s + 4 * l + j] * id)));
                    seg.set(ValueLayout.JAVA_BYTE, base + 32L * k + 4 * l + j, (byte) q);
                    sum += q;
                }
                seg.set(FLOAT, scales + 32L * k + 4L * l, d);
                seg.set(INT, sums + 32L * k + 4L * l, -8 * sum);
                seg.set(INT, sums128 + 32L * k + 4L * l, -128 * sum);
            }
        }
    }

    /** Blocks per vector. */
    public int blocks() {
        return blocks;
    }

    /** Vectors quantized. */
    public int count() {
        return count;
    }

    /** Native address of vector {@code token}. */
    public long address(int token) {
        return seg.address() + stride(blocks) * token;
    }

    /** Quantized element {@code i} of vector {@code token}. */
    public int q(int token, int i) {
        return seg.get(ValueLayout.JAVA_BYTE, stride(blocks) * token + i);
    }

    /** Scale of block {@code k} of vector {@code token}. */
    public float scale(int token, int k) {
        return seg.get(FLOAT, stride(blocks) * token + 32L * blocks + 32L * k);
    }
}
