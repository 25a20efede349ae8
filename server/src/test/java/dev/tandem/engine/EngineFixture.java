package dev.tandem.engine;

import dev.tandem.kernels.Parallel;
import dev.tandem.model.Forward;
import dev.tandem.model.KvCache;
import dev.tandem.model.Model;
import dev.tandem.model.ModelConfig;
import dev.tandem.model.Sampler;
import dev.tandem.model.SamplingParams;
import dev.tandem.model.Sequence;
import dev.tandem.testing.Shared;
import dev.tandem.tokenizer.Tokenizer;
import dev.tandem.tokenizer.Tokenizers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.List;
import java.util.SplittableRandom;

/** A small reference model (llama-spm Q8_0: 32000-entry SentencePiece vocabulary) and helpers for engine tests. */
final class EngineFixture implements AutoCloseable {
    final Model model;
    final Tokenizer tokenizer;
    final int vocab;

    EngineFixture(String file) {
        this.model = Model.load(Shared.model("ref/" + file));
        this.tokenizer = Tokenizers.fromGguf(model.file());
        this.vocab = model.config().vocab();
    }

    /** An engine: 2 threads, {@code maxRunning} rows, prefill chunks of 16, context {@code ctx}, room for every running request. */
    ColocatedEngine engine(int maxRunning, int ctx, int maxQueue) {
        return new ColocatedEngine(model, tokenizer, null,
                new EngineConfig("test", 2, maxRunning, 16, ctx, maxRunning * ctx, maxQueue), new SimpleMeterRegistry());
    }

    /** BOS, then {@code n - 1} seeded ids above the special tokens. */
    int[] prompt(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] p = new int[n];
        p[0] = tokenizer.bos();
        for (int i = 1; i < n; i++) {
            p[i] = 3 + rnd.nextInt(Math.min(vocab, tokenizer.vocabSize()) - 3);
        }
        return p;
    }

    static GenerationRequest greedy(int[] prompt, int maxTokens) {
        return new GenerationRequest(prompt, SamplingParams.greedy(), maxTokens, List.of(), true, false, 0);
    }

    static GenerationRequest sampled(int[] prompt, int maxTokens, long seed) {
        SamplingParams p = new SamplingParams(0.9f, 40, 0.95f, 0.05f, 1.1f, 0f, 0f, 64, seed);
        return new GenerationRequest(prompt, p, maxTokens, List.of(), true, false, 0);
    }

    static GenerationRequest withLogprobs(GenerationRequest r, int top) {
        return new GenerationRequest(r.promptTokens(), r.sampling(), r.maxTokens(), r.stop(), r.ignoreEos(), true, top);
    }

    /**
     * The tokens of {@code r} (ignoring EOS) computed the plain way: one Forward, prefill of the
     * whole prompt in one call, then one decode call per token, one Sampler fed prompt and output.
     */
    int[] direct(GenerationRequest r) {
        return direct(r, KvCache.Type.F32);
    }

    /** {@link #direct(GenerationRequest)} with a KV cache of {@code kvType}. */
    int[] direct(GenerationRequest r, KvCache.Type kvType) {
        ModelConfig c = model.config();
        int[] prompt = r.promptTokens();
        int n = r.maxTokens();
        int positions = prompt.length + n;
        KvCache kv = KvCache.forPositions(c, positions, 16, kvType);
        Sequence s = new Sequence(positions, 16);
        if (!kv.reserve(s, positions)) {
            throw new AssertionError("reference cache too small");
        }
        Sampler sampler = new Sampler(r.sampling(), vocab);
        for (int t : prompt) {
            sampler.accept(t);
        }
        int sampleVocab = Math.min(vocab, tokenizer.vocabSize());
        int[] out = new int[n];
        float[] logits = new float[vocab];
        try (Parallel pool = new Parallel(1, "direct")) {
            Forward fw = new Forward(model, kv, pool, 64);
            fw.prefill(s, prompt, 0, prompt.length, logits, false);
            for (int i = 0; i < n; i++) {
                int t = sampler.sample(logits, 0, sampleVocab);
                sampler.accept(t);
                out[i] = t;
                if (i + 1 < n) {
                    fw.decode(new Sequence[] {s}, new int[] {t}, 1, logits);
                }
            }
        }
        return out;
    }

    @Override
    public void close() {
        model.close();
    }
}
