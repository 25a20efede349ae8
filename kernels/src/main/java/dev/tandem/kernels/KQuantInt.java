package dev.tandem.kernels;

import dev.tandem.kernels.x86.KQuantDot;
import dev.tandem.kernels.x86.KQuantTile;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The integer path for Q4_K and Q6_K weights (llama.cpp's Q4_K_M files), on the same activation
 * blocks of 32 as Q8_0 / Q4_0 ({@link Q8Activations}): each 256-weight super-block meets 8
 * activation blocks, and each activation block's integer products stay exact in 8 lanes of 4.
 * Native code of {@link KQuantDot} where the processor allows, {@link #rowReference} (the same
 * operations in Java) elsewhere; the exact operation order is documented on {@link #rowReference}.
 * Batches of 4 or more go through {@link KQuantTile} (AVX-VNNI): rows unpacked once per block, 4
 * vectors at a time (8, as 4 pairs in 512-bit registers, with AVX-512 VNNI), the same operations per element.
 */
final class KQuantInt {
    /** Rows per call when several vectors share the weights, as in {@link IntKernels}. */
    private static final int ROW_BLOCK = 32;
    /** Rows prepared at once for the tile: Q6_K's 2 bytes per weight of 64 rows × 2048 columns stay in L2. */
    private static final int TILE_ROW_BLOCK = 64;

    private KQuantInt() {}

    /** Whether {@code type} is one of the K-quant formats handled here. */
    static boolean handles(GgmlType type) {
        return type == GgmlType.Q4_K || type == GgmlType.Q6_K;
    }

    /** {@link IntKernels#matmul} for Q4_K and Q6_K ({@code cols} a multiple of 256). */
    static void matmul(GgmlType type, MemorySegment data, long base, int cols, int rowStart, int rowEnd,
                       Q8Activations act, float[] out, int outStride) {
        if (!handles(type)) {
            throw new IllegalArgumentException("no K-quant integer kernel for " + type);
        }
        int blocks = cols / 32;
        if (act.blocks() != blocks || cols % 256 != 0) {
            throw new IllegalArgumentException("activations of " + act.blocks() + " blocks for a " + cols + "-column " + type + " matrix");
        }
        long rowBytes = type.bytesFor(cols);
        boolean q6 = type == GgmlType.Q6_K;
        int batch = act.count();
        if (KQuantDot.UNAVAILABLE != null || !data.isNative()) {
            for (int b = 0; b < batch; b++) {
                for (int r = rowStart; r < rowEnd; r++) {
                    out[b * outStride + r] = rowReference(type, data, base + r * rowBytes, act, b);
                }
            }
            return;
        }
        long w0 = data.address() + base;
        int tileVectors = batch >= KQuantTile.TILE_VECTORS && KQuantTile.available() ? batch - batch % KQuantTile.TILE_VECTORS : 0;
        int wideVectors = batch >= Q8Activations.PAIRED_FROM && KQuantTile.wideAvailable() ? batch - batch % KQuantTile.WIDE_VECTORS : 0;
        if (tileVectors > 0) {
            tiled(q6, w0, rowBytes, blocks, rowStart, rowEnd, act, wideVectors, tileVectors, out, outStride);
            return;
        }
        int step = batch == 1 ? IntKernels.CALL_ROWS : ROW_BLOCK;     // batch 1: calls short enough for safepoints (IntKernels.CALL_ROWS)
        MemorySegment scratch = NativeScratch.out(Math.min(step, rowEnd - rowStart));
        for (int r0 = rowStart; r0 < rowEnd; r0 += step) {
            int rows = Math.min(step, rowEnd - r0);
            for (int b = 0; b < batch; b++) {
                vector(q6, w0 + r0 * rowBytes, rowBytes, rows, blocks, act.address(b), scratch.address());
                MemorySegment.copy(scratch, ValueLayout.JAVA_FLOAT, 0, out, b * outStride + r0, rows);
            }
        }
    }

    /**
     * Several vectors, as {@link IntKernels#matmul}'s tile path: rows in blocks unpacked once
     * ({@link KQuantTile#prepare}) and met by eight vectors (four pairs) at a time through the 512-bit
     * tile where there is one ({@code wideVectors}, a multiple of 8), then four at a time up to
     * {@code tileVectors}, the vectors beyond through the matrix-vector kernel (the same operations per
     * element, so neither tile's presence changes a result).
     */
    private static void tiled(boolean q6, long w0, long rowBytes, int blocks, int rowStart, int rowEnd,
                              Q8Activations act, int wideVectors, int tileVectors, float[] out, int outStride) {
        int batch = act.count(), block = TILE_ROW_BLOCK;
        MemorySegment scratch = NativeScratch.out(KQuantTile.WIDE_VECTORS * block);
        long actStride = Q8Activations.stride(blocks), pairStride = Q8Activations.pairStride(blocks);
        MemorySegment factors = tileVectors > wideVectors ? factors(q6, act, wideVectors, tileVectors) : null;
        MemorySegment pairFactors = wideVectors > 0 ? pairFactors(q6, act, wideVectors / 2) : null;
        MemorySegment prepared = NativeScratch.prepared(KQuantTile.preparedRowBytes(q6, blocks) * block);
        for (int r0 = rowStart; r0 < rowEnd; r0 += block) {
            int rows = Math.min(block, rowEnd - r0);
            long w = w0 + r0 * rowBytes;
            KQuantTile.prepare(q6, w, rowBytes, rows, blocks, prepared.address());
            for (int b = 0; b < tileVectors; ) {
                int group = b < wideVectors ? KQuantTile.WIDE_VECTORS : KQuantTile.TILE_VECTORS;
                if (group == KQuantTile.WIDE_VECTORS) {
                    KQuantTile.wide(q6, prepared.address(), rows, blocks, act.pairAddress(b / 2), pairStride,
                            pairFactors.address() + (b / 2) * pairStride, scratch.address(), 4L * block);
                } else {
                    KQuantTile.tile(q6, prepared.address(), rows, blocks, act.address(b), actStride,
                            factors.address() + b * actStride, scratch.address(), 4L * block);
                }
                for (int t = 0; t < group; t++) {
                    MemorySegment.copy(scratch, ValueLayout.JAVA_FLOAT, 4L * block * t, out, (b + t) * outStride + r0, rows);
                }
                b += group;
            }
            for (int t = tileVectors; t < batch; t++) {
                vector(q6, w, rowBytes, rows, blocks, act.address(t), scratch.address());
                MemorySegment.copy(scratch, ValueLayout.JAVA_FLOAT, 0, out, t * outStride + r0, rows);
            }
        }
    }

    private static void vector(boolean q6, long w, long rowBytes, int rows, int blocks, long act, long out) {
        if (q6) {
            KQuantDot.q6_K(w, rowBytes, rows, blocks, act, out);
        } else {
            KQuantDot.q4_K(w, rowBytes, rows, blocks, act, out);
        }
    }

    /**
     * The tile's vector factors (layout on {@link KQuantTile}) of the first {@code vectors} vectors,
     * at the activations' stride: values the tile would otherwise convert or repeat per row
     * (compact scales, the lane sums as floats or times 4). Each is exact, so the tile's operations stay
     * those of the twin.
     */
    static MemorySegment factors(boolean q6, Q8Activations act, int vectors) {
        return factors(q6, act, 0, vectors);
    }

    /** {@link #factors(boolean, Q8Activations, int)} of vectors {@code from..vectors-1} only (the rest left as they are). */
    static MemorySegment factors(boolean q6, Q8Activations act, int from, int vectors) {
        int blocks = act.blocks();
        long stride = Q8Activations.stride(blocks);
        MemorySegment f = NativeScratch.factors(stride * (vectors - 1) + KQuantTile.factorBytes(blocks));
        float[] dx = new float[3 * blocks];
        int[] lanes = new int[8 * blocks];
        for (int b = from; b < vectors; b++) {
            for (int k = 0; k < blocks; k++) {
                float s = act.scale(b, k);
                dx[k] = s;
                dx[blocks + 2 * k] = s;
                dx[blocks + 2 * k + 1] = s;
                for (int l = 0; l < 8; l++) {
                    int sum8 = act.laneSum8(b, k, l);
                    lanes[8 * k + l] = q6 ? 4 * sum8 : Float.floatToRawIntBits((float) sum8);
                }
            }
            MemorySegment.copy(dx, 0, f, ValueLayout.JAVA_FLOAT, b * stride, 3 * blocks);
            MemorySegment.copy(lanes, 0, f, ValueLayout.JAVA_INT, b * stride + 12L * blocks, 8 * blocks);
        }
        return f;
    }

    /**
     * The wide tile's pair factors ({@link KQuantTile#pairFactorBytes}) of the first {@code pairs} pairs,
     * at the pair stride: per block the 8 lane values of {@link #factors} of the pair's first vector,
     * then its second's (the same exact values, in the paired layout).
     */
    static MemorySegment pairFactors(boolean q6, Q8Activations act, int pairs) {
        int blocks = act.blocks();
        long stride = Q8Activations.pairStride(blocks);
        MemorySegment f = NativeScratch.pairFactors(stride * (pairs - 1) + KQuantTile.pairFactorBytes(blocks));
        int[] lanes = new int[16 * blocks];
        for (int p = 0; p < pairs; p++) {
            act.pairLaneSums8(p, lanes);            // the paired layout's lane sums × −8, already in this order
            for (int i = 0; i < lanes.length; i++) {
                lanes[i] = q6 ? 4 * lanes[i] : Float.floatToRawIntBits((float) lanes[i]);
            }
            MemorySegment.copy(lanes, 0, f, ValueLayout.JAVA_INT, p * stride, 16 * blocks);
        }
        return f;
    }

    /**
     * One row of a Q4_K or Q6_K matrix at byte {@code offset} times quantized vector {@code token}:
     * the reference and the fallback of the native kernels, operation for operation. Lane {@code l}
     * of activation block {@code k} (scale {@code dx}, bytes {@code xq}) covers its elements
     * {@code 4l..4l+3}; integer sums are exact.
     * <ul>
     *   <li>Q4_K, k = sub-block s of its super-block: {@code ds = d · float(sc[s])} (the product
     *       dequantization uses), {@code dm8 = (dmin · 0.125) · float(m[s])} (exactly {@code dmin·m / 8}),
     *       {@code a[l] = fma(float(Σ q·xq), ds · dx, a[l])}, then
     *       {@code b[l] = fma(-float(8 · Σ xq), dm8 · dx, b[l])} (8·Σxq is the stored lane sum, which the
     *       native code converts straight from memory); after the last block {@code a[l] += b[l]}.
     *       The min term {@code -dmin·m·dx·Σxq} is the lane's share of {@code Σ (−dmin·m) · x}.</li>
     *   <li>Q6_K, k = block j of its super-block: {@code ds[l] = d · float(scales[2j + l/4])} (16-weight
     *       sub-scales: lanes 0-3 and 4-7 of a block differ), {@code a[l] = fma(float(Σ (q − 32)·xq), ds[l] · dx, a[l])}.</li>
     * </ul>
     * The result is IntDot's horizontal sum {@code ((a0+a4) + (a2+a6)) + ((a1+a5) + (a3+a7))}.
     */
    static float rowReference(GgmlType type, MemorySegment data, long offset, Q8Activations act, int token) {
        int blocks = act.blocks();
        float[] a = new float[8], b = new float[8];
        int[] w = new int[32];
        for (int sb = 0; sb < blocks / 8; sb++) {
            if (type == GgmlType.Q4_K) {
                long blk = offset + (long) sb * Q4_K.BLOCK_BYTES;
                float d = Float.float16ToFloat(data.get(BlockFormat.HALF, blk + Q4_K.D));
                float dmin = Float.float16ToFloat(data.get(BlockFormat.HALF, blk + Q4_K.DMIN));
                for (int s = 0; s < 8; s++) {
                    int k = 8 * sb + s;
                    float ds = d * Q4_K.scale(data, blk + Q4_K.SCALES, s), dm8 = dmin * 0.125f * Q4_K.min(data, blk + Q4_K.SCALES, s);
                    for (int i = 0; i < 32; i++) {
                        int q = Q4_K.u8(data, blk + Q4_K.QS + 32 * (s / 2) + i);
                        w[i] = s % 2 == 0 ? q & 0xf : q >> 4;
                    }
                    float dx = act.scale(token, k), sd = ds * dx, sm = dm8 * dx;
                    for (int l = 0; l < 8; l++) {
                        int isum = 0, xsum = 0;
                        for (int i = 4 * l; i < 4 * l + 4; i++) {
                            int xq = act.q(token, 32 * k + i);
                            isum += w[i] * xq;
                            xsum += xq;
                        }
                        a[l] = Math.fma((float) isum, sd, a[l]);
                        b[l] = Math.fma(-(float) (8 * xsum), sm, b[l]);
                    }
                }
            } else if (type == GgmlType.Q6_K) {
                long blk = offset + (long) sb * Q6_K.BLOCK_BYTES;
                float d = Float.float16ToFloat(data.get(BlockFormat.HALF, blk + Q6_K.D));
                for (int j = 0; j < 8; j++) {
                    int k = 8 * sb + j, h = j / 4, g = j % 4;
                    for (int i = 0; i < 32; i++) {
                        int ql = Q4_K.u8(data, blk + Q6_K.QL + 64 * h + 32 * (g % 2) + i);
                        int top = Q4_K.u8(data, blk + Q6_K.QH + 32 * h + i) >> 2 * g & 3;
                        w[i] = (g < 2 ? ql & 0xf : ql >> 4) | top << 4;
                    }
                    float dx = act.scale(token, k);
                    for (int l = 0; l < 8; l++) {
                        float ds = d * data.get(ValueLayout.JAVA_BYTE, blk + Q6_K.SCALES + 2 * j + l / 4);
                        int isum = 0;
                        for (int i = 4 * l; i < 4 * l + 4; i++) {
                            isum += (w[i] - 32) * act.q(token, 32 * k + i);
                        }
                        a[l] = Math.fma((float) isum, ds * dx, a[l]);
                    }
                }
            } else {
                throw new IllegalArgumentException("no K-quant integer kernel for " + type);
            }
        }
        if (type == GgmlType.Q4_K) {
            for (int l = 0; l < 8; l++) {
                a[l] += b[l];
            }
        }
        float s0 = a[0] + a[4], s1 = a[1] + a[5], s2 = a[2] + a[6], s3 = a[3] + a[7];
        return (s0 + s2) + (s1 + s3);
    }
}
