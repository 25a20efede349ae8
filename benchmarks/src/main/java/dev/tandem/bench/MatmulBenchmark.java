package dev.tandem.bench;

import dev.tandem.kernels.Format;
import dev.tandem.kernels.Formats;
import dev.tandem.kernels.GgmlType;
import dev.tandem.kernels.IntKernels;
import dev.tandem.kernels.Q8Activations;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * activation vectors: batch 1 is a decode step (matrix-vector, memory-bound: read the
 * {@code weightGB} column, GB/s of weights), batch 64 is prefill (matrix-matrix, compute-bound:
 * read {@code gflop}, GFLOP/s counting a multiply-add as 2; {@code -p batch=512} for a whole
 * prompt chunk). The score itself is matmuls per second. Compare with {@link PeakBenchmark} (read
 * bandwidth, FMA peak) on the same machine. On a shared machine compare two builds side by side
 * (alternating runs) and report ratios, not single numbers.
 * Run: {@code java -jar benchmarks/target/benchmarks.jar MatmulBenchmark -p type=Q8_0,Q4_0 -p shape=768x768 -p kernels=f32,q8}
 * (the jar's manifest adds the vector module; otherwise pass {@code --add-modules jdk.incubator.vector}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatmulBenchmark {
    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    String type;

    @Param({"1", "64"})
    int batch;

    /**
     * {@code rows x cols}: attention (768x768), FFN up/gate (2048x768), FFN down (768x2048) of the 110M
     * Llama; attention (2048x2048), FFN up/gate (8192x2048), FFN down (2048x8192) and the tied output /
     * embedding matrix (128256x2048, larger than the L3 of most machines: it streams from DRAM) of a 1B Llama.
     */
    @Param({"768x768", "2048x768", "768x2048", "2048x2048", "8192x2048", "2048x8192", "128256x2048"})
    String shape;

    /**
     * {@code f32}: the default kernels ({@link Format#matmul}, activations in F32); {@code q8}: the
     * integer path ({@code --kernels q8}, {@link IntKernels}: activations quantized to 8-bit blocks,
     * included in the time) for the formats it supports — over weights repacked at setup where the
     * processor has the packed kernels ({@link IntKernels#packs}), as a loaded model is;
     * {@code q8-rowmajor}: the integer path's row-major kernels on the file's layout (what {@code q8}
     * runs on AVX2 machines). Other formats fail the q8 combinations at setup.
     */
    @Param({"f32", "q8"})
    String kernels;
    private IntKernels.Packed packed;

    private int rows;
    private int cols;
    private final Q8Activations act = new Q8Activations();
    private Arena arena;
    private Format format;
    private MemorySegment weights;
    private float[] x;   // [batch][cols]
    private float[] out; // [batch][rows]

    /** Per-second counters JMH prints beside the score. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Rates {
        /** GB of weights read (per second: GB/s). */
        public double weightGB;
        /** Billions of floating-point operations (per second: GFLOP/s). */
        public double gflop;

        @Setup(Level.Iteration)
        public void reset() {
            weightGB = 0;
            gflop = 0;
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        String[] rc = shape.split("x");
        rows = Integer.parseInt(rc[0]);
        cols = Integer.parseInt(rc[1]);
        format = Formats.of(GgmlType.valueOf(type));
        if (!kernels.equals("f32") && !IntKernels.supports(format.type())) {
            throw new IllegalStateException("no integer kernel for " + type + " (q8 runs Q8_0, Q4_0, Q4_K, Q6_K)");
        }
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
        packed = kernels.equals("q8") && IntKernels.packs(format.type()) ? IntKernels.pack(format.type(), weights, 0, rows, cols) : null;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matmul(Rates rates) {
        if (packed != null) {
            act.quantize(x, batch, cols, true);
            IntKernels.matmul(packed, 0, rows, act, out, rows);
        } else if (!kernels.equals("f32")) {
            act.quantize(x, batch, cols);
            IntKernels.matmul(format.type(), weights, 0, cols, 0, rows, act, out, rows);
        } else {
            format.matmul(weights, 0, cols, 0, rows, x, batch, out, rows);
        }
        rates.weightGB += weights.byteSize() * 1e-9;
        rates.gflop += 2.0 * rows * cols * batch * 1e-9;
        return out;
    }
}
