package dev.tandem.kernels;

import dev.tandem.kernels.x86.IntDot;
import dev.tandem.kernels.x86.PackedDot;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.IntStream;

/**
 * The integer path ({@code --kernels q8}): Q8_0, Q4_0, Q4_K and Q6_K weights multiplied with
 * activations quantized to 8-bit blocks ({@link Q8Activations}), as llama.cpp does, by the native
 * kernels of {@link IntDot} (and {@code KQuantDot}, through {@link KQuantInt}) where the processor
 * allows and by {@link #rowReference} or {@code KQuantInt.rowReference} (the same operations in Java,
 * slow) elsewhere. Faster, and less exact: the activations' rounding costs accuracy that the
 * default F32 path keeps (numbers in {@code docs/performance.md}). Every output element is computed
 * by the same operations at every batch size, so batch invariance holds within the mode.
 */
public final class IntKernels {
    private static volatile boolean enabled = Boolean.getBoolean("tandem.kernels.q8");
    /** Rows per call when several vectors share the weights: their bytes stay in L1/L2 across the vectors. */
    private static final int ROW_BLOCK = 32;
    /** Rows per call of a matrix-vector product (about 1 ms of work or less). */
    static final int CALL_ROWS = 4096;
    /** Rows per call of the tile: prepared once ({@link IntDot#prepare}), then met by every vector of the batch. */
    private static final int TILE_ROW_BLOCK = 64;

    private IntKernels() {}

    /** Whether matrix products of the supported formats use the integer path (process-wide). */
    public static boolean enabled() {
        return enabled;
    }

    public static void setEnabled(boolean on) {
        enabled = on;
    }

    /** Whether {@code type} has an integer kernel (Q4_K and Q6_K: {@link KQuantInt}). */
    public static boolean supports(GgmlType type) {
        return type == GgmlType.Q8_0 || type == GgmlType.Q4_0 || KQuantInt.handles(type);
    }

    /** "native AVX-512 VNNI, weights repacked", "native AVX-VNNI", "native AVX2" or "Java (why)". */
    public static String implementation() {
        if (PackedDot.available()) {
            return "native AVX-512 VNNI, weights repacked";
        }
        return IntDot.UNAVAILABLE == null ? "native " + IntDot.describe() : "Java (" + IntDot.UNAVAILABLE + ")";
    }

    /** The kernel choice in force, for status pages: "f32", or "q8, " and {@link #implementation}. */
    public static String choice() {
        return enabled ? "q8, " + implementation() : "f32";
    }

    /**
     * Rows {@code [rowStart, rowEnd)} of the {@code type} matrix at byte {@code base} of {@code data},
     * {@code cols} wide, times each quantized vector of {@code act}:
     * {@code out[b · outStride + r]}.
     */
    public static void matmul(GgmlType type, MemorySegment data, long base, int cols, int rowStart, int rowEnd,
                              Q8Activations act, float[] out, int outStride) {
        if (KQuantInt.handles(type)) {          // Q4_K, Q6_K: their own kernels (KQuantDot)
            KQuantInt.matmul(type, data, base, cols, rowStart, rowEnd, act, out, outStride);
            return;
        }
        int blocks = cols / 32;
        if (act.blocks() != blocks) {
            throw new IllegalArgumentException("activations of " + act.blocks() + " blocks for a " + cols + "-column matrix");
        }
        long rowBytes = type.bytesFor(cols);
        boolean q4 = type == GgmlType.Q4_0;
        if (!supports(type)) {
            throw new IllegalArgumentException("no integer kernel for " + type);
        }
        int batch = act.count();
        if (IntDot.UNAVAILABLE != null || !data.isNative()) {
            for (int b = 0; b < batch; b++) {
                for (int r = rowStart; r < rowEnd; r++) {
                    out[b * outStride + r] = rowReference(q4, data, base + r * rowBytes, act, b);
                }
            }
            return;
        }
        long w0 = data.address() + base;
        if (batch == 1) {
            // In calls of at most CALL_ROWS rows: a critical downcall holds off safepoints (and so every
            // other thread's GC pause) until it returns; a 128256-row output matrix in one call would be ~15 ms.
            MemorySegment scratch = NativeScratch.out(Math.min(CALL_ROWS, rowEnd - rowStart));
            for (int r0 = rowStart; r0 < rowEnd; r0 += CALL_ROWS) {
                int rows = Math.min(CALL_ROWS, rowEnd - r0);
                vector(q4, w0 + r0 * rowBytes, rowBytes, rows, blocks, act.address(0), scratch.address());
                MemorySegment.copy(scratch, ValueLayout.JAVA_FLOAT, 0, out, r0, rows);
            }
            return;
        }
        // Several vectors: rows in blocks that stay in L1/L2 while the vectors pass, four vectors
        // and two rows at a time through the tile, the rest through the matrix-vector kernel (the
        // same operations per element, so the tile's presence never changes a result).
        // Eight vectors (four pairs) at a time through the 512-bit tile where there is one, then four at a time
        // through the 256-bit tile: the same operations per element as the matrix-vector kernel.
        int wideVectors = IntDot.wideTiles() && batch >= Q8Activations.PAIRED_FROM ? batch - batch % IntDot.WIDE_VECTORS : 0;
        int tileVectors = IntDot.tiles() ? batch - (batch - wideVectors) % IntDot.TILE_VECTORS : 0;
        int block = tileVectors > 0 ? TILE_ROW_BLOCK : ROW_BLOCK;
        MemorySegment scratch = NativeScratch.out(IntDot.WIDE_VECTORS * block);
        MemorySegment prepared = tileVectors > 0 ? NativeScratch.prepared((long) IntDot.PREPARED_BLOCK * blocks * block) : null;
        long actStride = Q8Activations.stride(blocks), pairStride = Q8Activations.pairStride(blocks);
        for (int r0 = rowStart; r0 < rowEnd; r0 += block) {
            int rows = Math.min(block, rowEnd - r0), pairs = rows / 2;
            long w = w0 + r0 * rowBytes;
            if (tileVectors > 0 && pairs > 0) {
                IntDot.prepare(q4, w, rowBytes, 2 * pairs, blocks, prepared.address());
            }
            for (int b = 0; b < tileVectors; ) {
                int group = b < wideVectors ? IntDot.WIDE_VECTORS : IntDot.TILE_VECTORS;
                if (pairs > 0) {
                    if (group == IntDot.WIDE_VECTORS) {
                        IntDot.wide(q4, prepared.address(), pairs, blocks, act.pairAddress(b / 2), pairStride, scratch.address(), 4L * block);
                    } else {
                        IntDot.tile(q4, prepared.address(), pairs, blocks, act.address(b), actStride, scratch.address(), 4L * block);
                    }
                    for (int t = 0; t < group; t++) {
                        MemorySegment.copy(scratch, ValueLayout.JAVA_FLOAT, 4L * block * t, out, (b + t) * outStride + r0, 2 * pairs);
                    }
                }
                if (rows % 2 != 0) {
                    for (int t = b; t < b + group; t++) {
                        vector(q4, w + (rows - 1) * rowBytes, rowBytes, 1, blocks, act.address(t), scratch.address());
                        out[t * outStride + r0 + rows - 1] = scratch.get(ValueLayout.JAVA_FLOAT, 0);
                    }
                }
                b += group;
            }
            for (int t = tileVectors; t < batch; t++) {
                vector(q4, w, rowBytes, rows, blocks, act.address(t), scratch.address());
                MemorySegment.copy(scratch, ValueLayout.JAVA_FLOAT, 0, out, t * outStride + r0, rows);
            }
        }
    }

    private static void vector(boolean q4, long w, long rowBytes, int rows, int blocks, long act, long out) {
        if (q4) {
            IntDot.q4_0(w, rowBytes, rows, blocks, act, out);
        } else {
            IntDot.q8_0(w, rowBytes, rows, blocks, act, out);
        }
    }

    /** Whether matrices of {@code type} are repacked for {@link PackedDot} on this machine (Q8_0, Q4_0, Q4_K, Q6_K with AVX-512 VNNI). */
    public static boolean packs(GgmlType type) {
        return kind(type) != null && PackedDot.available();
    }

    private static PackedDot.Kind kind(GgmlType type) {
        return switch (type) {
            case Q8_0 -> PackedDot.Kind.Q8_0;
            case Q4_0 -> PackedDot.Kind.Q4_0;
            case Q4_K -> PackedDot.Kind.Q4_K;
            case Q6_K -> PackedDot.Kind.Q6_K;
            default -> null;
        };
    }

    /**
     * A matrix repacked for {@link PackedDot}: rows in groups of 16, each 32-bit lane of a 512-bit
     * register one row (layouts in {@link PackedDot.Kind}). A copy in native memory of about the
     * matrix's own size (Q6_K: 1.3 times, its 6-bit weights as bytes), made once; the file's bytes are
     * no longer read by matrix products.
     */
    public static final class Packed {
        private final PackedDot.Kind kind;
        private final int rows, cols, groups;
        private final long groupBytes;
        private final MemorySegment seg;

        private Packed(PackedDot.Kind kind, int rows, int cols) {
            this.kind = kind;
            this.rows = rows;
            this.cols = cols;
            this.groups = groups(rows);
            this.groupBytes = groupBytes(kind, cols);
            this.seg = Arena.ofAuto().allocate(groupBytes * groups, 64);
        }

        public int rows() {
            return rows;
        }

        public int cols() {
            return cols;
        }

        /** Bytes of native memory held. */
        public long bytes() {
            return seg.byteSize();
        }

        private long group(int g) {
            return seg.address() + groupBytes * g;
        }
    }

    /** Bytes of native memory {@link #pack} takes for a {@code rows × cols} {@code type} matrix ({@link #packs} must hold). */
    public static long packedBytes(GgmlType type, int rows, int cols) {
        return groups(rows) * groupBytes(kind(type), cols);
    }

    private static int groups(int rows) {
        return (rows + PackedDot.GROUP - 1) / PackedDot.GROUP;
    }

    /** Bytes of one group of 16 packed rows: its units, {@code cols} columns' worth. */
    private static long groupBytes(PackedDot.Kind kind, int cols) {
        return (long) kind.unitBytes * (cols / 32 / kind.blocksPerUnit);
    }

    /**
     * The {@code rows × cols} {@code type} matrix at byte {@code base} of {@code data}, repacked
     * ({@link #packs} must hold; {@code cols} a multiple of the format's block). Groups are packed in parallel.
     */
    public static Packed pack(GgmlType type, MemorySegment data, long base, int rows, int cols) {
        PackedDot.Kind kind = kind(type);
        if (!packs(type) || cols % (32 * kind.blocksPerUnit) != 0) {
            throw new IllegalArgumentException("no packed kernel for " + type + " with " + cols + " columns");
        }
        Packed p = new Packed(kind, rows, cols);
        long rowBytes = type.bytesFor(cols);
        int units = cols / 32 / kind.blocksPerUnit;
        IntStream groups = IntStream.range(0, p.groups);
        // in parallel where other threads may read the weights (not a confined arena's)
        (data.isAccessibleBy(ANOTHER_THREAD) ? groups.parallel() : groups).forEach(g -> {
            long out = p.groupBytes * g;
            for (int u = 0; u < units; u++, out += kind.unitBytes) {
                for (int r = 0; r < PackedDot.GROUP; r++) {
                    int row = PackedDot.GROUP * g + r;
                    if (row < rows) {
                        packUnit(kind, data, base + row * rowBytes, u, p.seg, out, r);
                    } else if (kind == PackedDot.Kind.Q8_0 || kind == PackedDot.Kind.Q4_0) {
                        // padding rows: weight 0 with scale 0 (Q4_0: 8 - 8; Q8_0: 128 - 128); the K-quants' zero scales suffice
                        int zero = kind == PackedDot.Kind.Q4_0 ? 0x88888888 : 0x80808080;
                        for (int c = 0; c < (kind == PackedDot.Kind.Q4_0 ? 4 : 8); c++) {
                            p.seg.set(WORD, out + 32 + 64L * c + 4L * r, zero);
                        }
                    }
                }
            }
        });
        return p;
    }

    private static final ValueLayout.OfInt WORD = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** Unit {@code u} of the row at {@code row} into lane {@code r} of the group's unit at {@code out}. */
    private static void packUnit(PackedDot.Kind kind, MemorySegment data, long row, int u, MemorySegment dst, long out, int r) {
        switch (kind) {
            case Q8_0, Q4_0 -> {
                boolean q4 = kind == PackedDot.Kind.Q4_0;
                long blk = row + (long) u * (q4 ? 18 : 34);
                dst.set(BlockFormat.HALF, out + 2L * r, data.get(BlockFormat.HALF, blk));
                for (int c = 0; c < (q4 ? 4 : 8); c++) {
                    dst.set(WORD, out + 32 + 64L * c + 4L * r, data.get(WORD, blk + 2 + 4L * c) ^ (q4 ? 0 : 0x80808080));
                }
            }
            case Q4_K -> {
                long blk = row + (long) u * Q4_K.BLOCK_BYTES;
                dst.set(FLOAT, out + 4L * r, Float.float16ToFloat(data.get(BlockFormat.HALF, blk + Q4_K.D)));
                dst.set(FLOAT, out + 64 + 4L * r, Float.float16ToFloat(data.get(BlockFormat.HALF, blk + Q4_K.DMIN)));
                for (int s = 0; s < 8; s++) {
                    dst.set(ValueLayout.JAVA_BYTE, out + 128 + 16L * s + r, (byte) Q4_K.scale(data, blk + Q4_K.SCALES, s));
                    dst.set(ValueLayout.JAVA_BYTE, out + 256 + 16L * s + r, (byte) Q4_K.min(data, blk + Q4_K.SCALES, s));
                }
                for (int pair = 0; pair < 4; pair++) {
                    for (int c = 0; c < 8; c++) {
                        dst.set(WORD, out + 384 + 512L * pair + 64L * c + 4L * r, data.get(WORD, blk + Q4_K.QS + 32L * pair + 4L * c));
                    }
                }
            }
            case Q6_K -> {
                long blk = row + (long) u * Q6_K.BLOCK_BYTES;
                dst.set(FLOAT, out + 4L * r, Float.float16ToFloat(data.get(BlockFormat.HALF, blk + Q6_K.D)));
                for (int g = 0; g < 16; g++) {
                    dst.set(ValueLayout.JAVA_BYTE, out + 64 + 16L * g + r, data.get(ValueLayout.JAVA_BYTE, blk + Q6_K.SCALES + g));
                }
                for (int j = 0; j < 8; j++) {
                    for (int i = 0; i < 32; i++) {
                        dst.set(ValueLayout.JAVA_BYTE, out + 320 + 512L * j + 64L * (i / 4) + 4L * r + i % 4, (byte) q6(data, blk, j, i));
                    }
                }
            }
        }
    }

    /** Element {@code i} of block {@code j} of the Q6_K super-block at {@code blk}: its 6-bit {@code q} (weight {@code q − 32}). */
    private static int q6(MemorySegment data, long blk, int j, int i) {
        int h = j / 4, g = j % 4;
        int ql = Q4_K.u8(data, blk + Q6_K.QL + 64 * h + 32 * (g % 2) + i);
        int top = Q4_K.u8(data, blk + Q6_K.QH + 32 * h + i) >> 2 * g & 3;
        return (g < 2 ? ql & 0xf : ql >> 4) | top << 4;
    }

    /** A thread never started: {@code isAccessibleBy(ANOTHER_THREAD)} asks whether any thread may read a segment. */
    private static final Thread ANOTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });

    /** Vectors' groups per tile call: 64 rows, whose weights stay in L1/L2 while every vector of the batch passes. */
    private static final int TILE_GROUPS = 4;

    /** Rows {@code [rowStart, rowEnd)} of {@code p} times each vector of {@code act}: {@code out[b · outStride + r]}. */
    public static void matmul(Packed p, int rowStart, int rowEnd, Q8Activations act, float[] out, int outStride) {
        int blocks = p.cols / 32;
        if (act.blocks() != blocks) {
            throw new IllegalArgumentException("activations of " + act.blocks() + " blocks for a " + p.cols + "-column matrix");
        }
        int batch = act.count(), g0 = rowStart / PackedDot.GROUP, g1 = (rowEnd + PackedDot.GROUP - 1) / PackedDot.GROUP;
        long actStride = act.blockMajorStride();
        // Batch 1 in calls of at most CALL_ROWS rows (safepoints: see matmul above); several vectors
        // in blocks of TILE_GROUPS groups, up to MAX_VECTORS vectors a call.
        int step = batch == 1 ? CALL_ROWS / PackedDot.GROUP : TILE_GROUPS;
        int vectors = Math.min(batch, PackedDot.MAX_VECTORS);
        long vectorBytes = 64L * step;
        MemorySegment scratch = NativeScratch.out(PackedDot.GROUP * step * vectors);
        for (int g = g0; g < g1; g += step) {
            int groups = Math.min(step, g1 - g);
            int r0 = Math.max(rowStart, PackedDot.GROUP * g), r1 = Math.min(rowEnd, PackedDot.GROUP * (g + groups));
            for (int b = 0; b < batch; b += vectors) {
                int n = Math.min(vectors, batch - b);
                PackedDot.multiply(p.kind, n, p.group(g), groups, blocks, act.blockMajorAddress(b), actStride,
                        scratch.address(), vectorBytes);
                for (int t = 0; t < n; t++) {
                    MemorySegment.copy(scratch, ValueLayout.JAVA_FLOAT, vectorBytes * t + 4L * (r0 - PackedDot.GROUP * g),
                            out, (b + t) * outStride + r0, r1 - r0);
                }
            }
        }
    }

    /**
     * The packed kernels' operations for one row of the file's {@code type} weights at {@code offset},
     * in Java (see {@link PackedDot}): the reference the native kernels are tested against.
     */
    public static float packedRowReference(GgmlType type, MemorySegment data, long offset, Q8Activations act, int token) {
        int blocks = act.blocks();
        float acc = 0;
        for (int k = 0; k < blocks; k++) {
            float dx = act.scale(token, k);
            switch (type) {
                case Q8_0, Q4_0 -> {
                    boolean q4 = type == GgmlType.Q4_0;
                    long blk = offset + (long) k * (q4 ? 18 : 34);
                    int isum = 0;
                    for (int i = 0; i < 32; i++) {
                        isum += weight(q4, data, blk, i) * act.q(token, 32 * k + i);
                    }
                    float scale = Float.float16ToFloat(data.get(BlockFormat.HALF, blk)) * dx;
                    acc = Math.fma((float) isum, scale, acc);
                }
                case Q4_K -> {
                    long blk = offset + (long) (k / 8) * Q4_K.BLOCK_BYTES;
                    int s = k % 8;
                    float ds = Float.float16ToFloat(data.get(BlockFormat.HALF, blk + Q4_K.D)) * Q4_K.scale(data, blk + Q4_K.SCALES, s);
                    float dm = Float.float16ToFloat(data.get(BlockFormat.HALF, blk + Q4_K.DMIN)) * Q4_K.min(data, blk + Q4_K.SCALES, s);
                    int isum = 0, xsum = 0;
                    for (int i = 0; i < 32; i++) {
                        int q = Q4_K.u8(data, blk + Q4_K.QS + 32 * (s / 2) + i);
                        int xq = act.q(token, 32 * k + i);
                        isum += (s % 2 == 0 ? q & 0xf : q >> 4) * xq;
                        xsum += xq;
                    }
                    acc = Math.fma((float) isum, ds * dx, acc);
                    acc = Math.fma(dm, dx * (float) -xsum, acc);
                }
                case Q6_K -> {
                    long blk = offset + (long) (k / 8) * Q6_K.BLOCK_BYTES;
                    int j = k % 8;
                    float d = Float.float16ToFloat(data.get(BlockFormat.HALF, blk + Q6_K.D));
                    for (int half = 0; half < 2; half++) {
                        int isum = 0;
                        for (int i = 16 * half; i < 16 * half + 16; i++) {
                            isum += (q6(data, blk, j, i) - 32) * act.q(token, 32 * k + i);
                        }
                        float ds = d * data.get(ValueLayout.JAVA_BYTE, blk + Q6_K.SCALES + 2 * j + half);
                        acc = Math.fma((float) isum, ds * dx, acc);
                    }
                }
                default -> throw new IllegalArgumentException("no packed kernel for " + type);
            }
        }
        return acc;
    }

    /** Weight {@code i} (signed) of the Q4_0 ({@code q4}) or Q8_0 block at {@code blk}. */
    private static int weight(boolean q4, MemorySegment data, long blk, int i) {
        if (q4) {
            int q = data.get(ValueLayout.JAVA_BYTE, blk + 2 + (i & 15)) & 0xff;
            return (i < 16 ? q & 15 : q >> 4) - 8;
        }
        return data.get(ValueLayout.JAVA_BYTE, blk + 2 + i);
    }

    /** The integer path's operations for one row, in Java (see {@link IntDot}): the reference and the fallback. */
    public static float rowReference(boolean q4, MemorySegment data, long offset, Q8Activations act, int token) {
        int blocks = act.blocks();
        float a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
        int blockBytes = q4 ? 18 : 34;
        int[] isum = new int[8];
        for (int k = 0; k < blocks; k++) {
            long blk = offset + (long) k * blockBytes;
            float scale = Float.float16ToFloat(data.get(BlockFormat.HALF, blk)) * act.scale(token, k);
            for (int l = 0; l < 8; l++) {
                int s = 0;
                for (int j = 0; j < 4; j++) {
                    int i = 4 * l + j;
                    s += weight(q4, data, blk, i) * act.q(token, 32 * k + i);
                }
                isum[l] = s;
            }
            a0 = Math.fma((float) isum[0], scale, a0);
            a1 = Math.fma((float) isum[1], scale, a1);
            a2 = Math.fma((float) isum[2], scale, a2);
            a3 = Math.fma((float) isum[3], scale, a3);
            a4 = Math.fma((float) isum[4], scale, a4);
            a5 = Math.fma((float) isum[5], scale, a5);
            a6 = Math.fma((float) isum[6], scale, a6);
            a7 = Math.fma((float) isum[7], scale, a7);
        }
        float s0 = a0 + a4, s1 = a1 + a5, s2 = a2 + a6, s3 = a3 + a7;
        return (s0 + s2) + (s1 + s3);
    }
}
