package dev.tandem.bench;

import dev.tandem.kernels.Format;
import dev.tandem.kernels.Formats;
import dev.tandem.kernels.GgmlType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One thread multiplying a {@code rows × cols} weight matrix in each format with a batch of
 * activation vectors: batch 1 is a decode step, larger batches are prefill. Report weight bytes
 * per second (decode) and rows·tokens per second (prefill) from the time per op.
 * Run: {@code java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar MatmulBenchmark}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatmulBenchmark {
    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    String type;

    @Param({"1", "16"})
    int batch;

    @Param({"2048"})
    int rows;

    @Param({"2048"})
    int cols;

    private Arena arena;
    private Format format;
    private MemorySegment weights;
    private float[] x;
    private float[] out;

    @Setup(Level.Trial)
    public void setup() {
        format = Formats.of(GgmlType.valueOf(type));
        arena = Arena.ofShared();
        long bytes = format.rowBytes(cols) * rows;
        weights = arena.allocate(bytes, 64);
        SplittableRandom r = new SplittableRandom(7);
        // Bytes 0x10..0x3B: every f16/bf16 scale they form is a normal number of modest size.
        for (long i = 0; i < bytes; i++) {
            weights.set(ValueLayout.JAVA_BYTE, i, (byte) (0x10 + r.nextInt(0x2C)));
        }
        x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        out = new float[batch * rows];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matmul() {
        format.matmul(weights, 0, cols, 0, rows, x, batch, out, rows);
        return out;
    }
}
