package dev.tandem.bench;

import dev.tandem.kernels.Parallel;
import dev.tandem.model.Forward;
import dev.tandem.model.KvCache;
import dev.tandem.model.Matrix;
import dev.tandem.model.Model;
import dev.tandem.model.ModelConfig;
import dev.tandem.model.Sequence;
import dev.tandem.model.Weights;
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

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Where one decode step's time goes, for a real model file:
 * <ul>
 *   <li>{@code decodeStep}: {@code Forward.decode} of one token (at positions 32..~150);</li>
 *   <li>{@code matmulsOnly}: the same step's weight matrices (7 per layer and the output), each
 *       through the pool as {@code Forward} runs them, with nothing else;</li>
 *   <li>{@code matmulsInline}: the same matrices on the calling thread, no pool at all;</li>
 *   <li>{@code forRangeEmpty}: one pool hand-off with an empty task, the fixed cost each of the
 *       step's ~{@code 8 * layers + 1} parallel sections pays;</li>
 *   <li>{@code prefillChunk}: for comparison, {@code Forward.prefill} of a 64-token prompt from position 0
 *       (the batched path: matrix-matrix products), logits of the last token only.</li>
 * </ul>
 * {@code decodeStep - matmulsOnly} is everything that is not a matmul (attention, norms, rope,
 * embedding); {@code matmulsOnly - matmulsInline / threads} is what splitting costs.
 * Run: {@code java -jar benchmarks/target/benchmarks.jar DecodeStepBenchmark -p model=PATH -p threads=1,2}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class DecodeStepBenchmark {
    @Param({"/root/.cache/tandem/llama-110m-q8_0.gguf"})
    String model;

    @Param({"1", "2"})
    int threads;

    private static final int PROMPT = 32;
    private static final int PREFILL = 64;
    private static final int POSITIONS = 1024;

    private Model m;
    private ModelConfig c;
    private Parallel pool;
    private KvCache kv;
    private Forward fw;
    private Sequence seq;
    private Sequence pre;      // prefillChunk's sequence, fresh for every call
    private final int[] preTokens = new int[PREFILL];
    private final Sequence[] seqs = new Sequence[1];
    private final int[] token = new int[1];
    private float[] logits;   // [vocab]
    private Matrix[] matrices; // the step's matrices in Forward's order
    private float[][] ins;     // [matrix][cols]
    private float[][] outs;    // [matrix][rows]
    private final Matrix.Task task = new Matrix.Task();
    private final Parallel.RangeTask empty = (start, end) -> { };

    @Setup(Level.Trial)
    public void setup() {
        m = Model.load(Path.of(model));
        c = m.config();
        pool = new Parallel(threads, "bench");
        kv = KvCache.forPositions(c, POSITIONS + PREFILL, 16);   // the decode sequence and prefillChunk's
        fw = new Forward(m, kv, pool, Math.max(PROMPT, PREFILL));
        for (int i = 0; i < PREFILL; i++) {
            preTokens[i] = 1 + (i * 37) % (c.vocab() - 1);
        }
        logits = new float[c.vocab()];
        Weights w = m.weights();
        matrices = new Matrix[7 * c.layers() + 1];
        int i = 0;
        for (Weights.Layer layer : w.layers) {
            for (Matrix mx : new Matrix[] {layer.wq(), layer.wk(), layer.wv(), layer.wo(), layer.gate(), layer.up(), layer.down()}) {
                matrices[i++] = mx;
            }
        }
        matrices[i] = w.output;
        ins = new float[matrices.length][];
        outs = new float[matrices.length][];
        for (int k = 0; k < matrices.length; k++) {
            ins[k] = new float[matrices[k].cols()];
            java.util.Arrays.fill(ins[k], 0.01f);
            outs[k] = new float[matrices[k].rows()];
        }
    }

    /** A fresh sequence with a 32-token prompt before every iteration (a few hundred steps at most follow). */
    @Setup(Level.Iteration)
    public void prompt() {
        if (seq != null) {
            kv.release(seq);
        }
        seq = new Sequence(POSITIONS, 16);
        kv.reserve(seq, POSITIONS);
        int[] prompt = new int[PROMPT];
        for (int i = 0; i < PROMPT; i++) {
            prompt[i] = 1 + i;
        }
        fw.prefill(seq, prompt, 0, PROMPT, null, false);
        seqs[0] = seq;
        token[0] = 100;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        m.close();
    }

    @Benchmark
    public float decodeStep() {
        if (seq.length() >= POSITIONS - 1) {
            kv.release(seq);   // not reached in a 1 s iteration at realistic speeds; keeps the bound safe
            kv.reserve(seq, POSITIONS);
        }
        fw.decode(seqs, token, 1, logits);
        token[0] = (token[0] * 31 + 7) % c.vocab();
        return logits[0];
    }

    @Benchmark
    public float prefillChunk() {
        if (pre != null) {
            kv.release(pre);
        }
        pre = new Sequence(PREFILL, 16);
        if (!kv.reserve(pre, PREFILL)) {
            throw new IllegalStateException("no KV room for the prefill sequence");
        }
        fw.prefill(pre, preTokens, 0, PREFILL, logits, false);
        return logits[0];
    }

    @Benchmark
    public float matmulsOnly() {
        for (int k = 0; k < matrices.length; k++) {
            task.run(pool, matrices[k], ins[k], 1, outs[k]);
        }
        return outs[0][0];
    }

    @Benchmark
    public float matmulsInline() {
        for (int k = 0; k < matrices.length; k++) {
            Matrix mx = matrices[k];
            mx.format().matmul(mx.data(), 0, mx.cols(), 0, mx.rows(), ins[k], 1, outs[k], mx.rows());
        }
        return outs[0][0];
    }

    @Benchmark
    public void forRangeEmpty() {
        pool.forRange(c.dim(), 16, empty);
    }
}
