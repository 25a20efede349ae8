package dev.tandem.kernels.x86;

import dev.tandem.kernels.Format;
import dev.tandem.kernels.Formats;
import dev.tandem.kernels.GgmlType;
import dev.tandem.kernels.Q8Activations;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The two instruction choices of the native kernels (AVX-VNNI and AVX2's multiply-adds) give the same bits. */
class IntDotTest {

    @Test
    void vnniAndAvx2KernelsAgreeBitwise() throws Throwable {
        Assumptions.assumeTrue(Cpu.THIS.nativeKernels(), "needs x86-64 Linux with AVX2/FMA/F16C: " + Cpu.THIS);
        boolean vnni = Cpu.THIS.avxVnni();
        int rows = 50, cols = 512;
        for (GgmlType type : new GgmlType[]{GgmlType.Q8_0, GgmlType.Q4_0}) {
            boolean q4 = type == GgmlType.Q4_0;
            MethodHandle avx2 = IntDot.load(q4, false);
            MethodHandle best = IntDot.load(q4, vnni);
            Format f = Formats.of(type);
            SplittableRandom rnd = new SplittableRandom(3);
            try (Arena arena = Arena.ofConfined()) {
                long rb = f.rowBytes(cols);
                MemorySegment w = arena.allocate(rb * rows, 64);
                float[] row = new float[cols];
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        row[c] = (float) rnd.nextGaussian();
                    }
                    f.quantize(row, 0, cols, w, r * rb);
                }
                // extreme weights too: -128 is a valid Q8_0 byte that quantization never writes
                w.set(ValueLayout.JAVA_BYTE, 2, (byte) -128);
                float[] x = new float[cols];
                for (int c = 0; c < cols; c++) {
                    x[c] = (float) rnd.nextGaussian();
                }
                Q8Activations act = new Q8Activations();
                act.quantize(x, 1, cols);
                MemorySegment a = arena.allocate(4L * rows), b = arena.allocate(4L * rows);
                avx2.invokeExact(w.address(), rb, (long) rows, (long) cols / 32, act.address(0), a.address());
                best.invokeExact(w.address(), rb, (long) rows, (long) cols / 32, act.address(0), b.address());
                for (int r = 0; r < rows; r++) {
                    assertEquals(a.getAtIndex(ValueLayout.JAVA_INT, r), b.getAtIndex(ValueLayout.JAVA_INT, r), type + " row " + r);
                }
            }
        }
    }
}
