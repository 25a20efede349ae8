package dev.tandem.bench;

import dev.tandem.kernels.Vectors;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The two ceilings the kernels are measured against, on one thread: read bandwidth (summing a
 * 256 MB array, far larger than any cache: {@code readGB} is GB/s) and the FMA peak (ten
 * independent fused multiply-add chains on registers: {@code gflop} is GFLOP/s at the vector width
 * the kernels use).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx1g"})
public class PeakBenchmark {
    private static final VectorSpecies<Float> S = Vectors.F;
    private static final int L = Vectors.LANES;
    private static final int FMA_STEPS = 1 << 16;

    private float[] big;   // [64 Mi] 256 MB
    private final float[] seed = new float[64];

    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Rates {
        public double readGB;
        public double gflop;

        @Setup(Level.Iteration)
        public void reset() {
            readGB = 0;
            gflop = 0;
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        big = new float[64 << 20];
        for (int i = 0; i < big.length; i += 1024) {
            big[i] = i;
        }
    }

    @Benchmark
    public float readBandwidth(Rates rates) {
        FloatVector a = FloatVector.zero(S), b = a, c = a, d = a;
        for (int i = 0; i < big.length; i += 4 * L) {
            a = a.add(FloatVector.fromArray(S, big, i));
            b = b.add(FloatVector.fromArray(S, big, i + L));
            c = c.add(FloatVector.fromArray(S, big, i + 2 * L));
            d = d.add(FloatVector.fromArray(S, big, i + 3 * L));
        }
        rates.readGB += 4.0 * big.length * 1e-9;
        return a.add(b).add(c.add(d)).lane(0);
    }

    @Benchmark
    public float fmaPeak(Rates rates) {
        FloatVector a0 = FloatVector.fromArray(S, seed, 0), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3), a4 = a0.add(4);
        FloatVector a5 = a0.add(5), a6 = a0.add(6), a7 = a0.add(7), a8 = a0.add(8), a9 = a0.add(9);
        FloatVector m = FloatVector.broadcast(S, 0.999f), k = FloatVector.broadcast(S, 0.001f);
        for (int i = 0; i < FMA_STEPS; i++) {
            a0 = a0.fma(m, k);
            a1 = a1.fma(m, k);
            a2 = a2.fma(m, k);
            a3 = a3.fma(m, k);
            a4 = a4.fma(m, k);
            a5 = a5.fma(m, k);
            a6 = a6.fma(m, k);
            a7 = a7.fma(m, k);
            a8 = a8.fma(m, k);
            a9 = a9.fma(m, k);
        }
        rates.gflop += 10.0 * FMA_STEPS * L * 2 * 1e-9;
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).lane(0);
    }
}
