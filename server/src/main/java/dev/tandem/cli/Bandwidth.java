package dev.tandem.cli;

import dev.tandem.kernels.Parallel;
import dev.tandem.kernels.Vectors;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** A STREAM-like read probe: bytes per second the given threads can sum from memory far larger than the caches. */
final class Bandwidth {
    private static final long BYTES = 1L << 30;

    private Bandwidth() {}

    static double measure(Parallel pool) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(BYTES, 64);
            seg.fill((byte) 1);
            int chunks = (int) (BYTES / (1 << 20));
            float[] sink = new float[chunks];
            double best = 0;
            for (int rep = 0; rep < 5; rep++) {
                long t0 = System.nanoTime();
                pool.forRange(chunks, 1, (start, end) -> {
                    for (int ch = start; ch < end; ch++) {
                        sink[ch] = sum(seg, (long) ch << 20, 1 << 20);
                    }
                });
                double s = (System.nanoTime() - t0) / 1e9;
                best = Math.max(best, BYTES / s);
            }
            return best;
        }
    }

    private static float sum(MemorySegment seg, long off, int bytes) {
        var s = Vectors.F;
        int step = s.vectorByteSize();
        FloatVector a0 = FloatVector.zero(s), a1 = a0, a2 = a0, a3 = a0;
        for (long i = off; i < off + bytes; i += 4L * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(s, seg, i, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(s, seg, i + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(s, seg, i + 2L * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(s, seg, i + 3L * step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2).add(a3).lane(0);
    }
}
