package dev.tandem.http;

import dev.tandem.engine.Engine;
import dev.tandem.engine.EngineException;
import dev.tandem.engine.FinishReason;
import dev.tandem.engine.GenerationRequest;
import dev.tandem.engine.Logprobs;
import dev.tandem.engine.ModelInfo;
import dev.tandem.engine.RequestHandle;
import dev.tandem.engine.TokenSink;
import dev.tandem.engine.Usage;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deterministic engine over {@link FakeTokenizer} byte tokens. Each request generates the bytes of
 * {@link #script}, one token per byte, honouring maxTokens, stop strings (held back while they may begin,
 * never emitted) and cancellation. A prompt containing "short" ends with EOS after "Hi!"; "fail-now" fails
 * at once, "fail-later" after 3 tokens. {@link #hold()} keeps new requests queued until {@link #release()}.
 */
final class FakeEngine implements Engine {
    static final String GREEDY_TEXT = "The quick brown fox jumps over the lazy dog. ";

    private final ModelInfo info;
    private final ScheduledExecutorService exec = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "fake-engine");
        t.setDaemon(true);
        return t;
    });
    private final int capacity;
    final AtomicInteger live = new AtomicInteger();      // submitted, not yet ended (queued or running)
    final AtomicInteger submitted = new AtomicInteger();
    final AtomicInteger cancelled = new AtomicInteger();
    final AtomicInteger finished = new AtomicInteger();
    private final List<Job> held = new ArrayList<>();
    private final List<Job> all = new ArrayList<>();
    private boolean holding;
    private volatile boolean accepting = true;
    volatile long tokenDelayMicros;
    volatile int bytesPerToken = 1; // >1: each token's piece repeats its byte (big streams for the slow-reader test)

    FakeEngine(String id, int contextLength, int capacity, MeterRegistry registry) {
        this.info = new ModelInfo(id, contextLength, new FakeTokenizer(), new FakeTemplate());
        this.capacity = capacity;
        Gauge.builder("tandem_requests_running", live, AtomicInteger::get).register(registry);
    }

    /** The text a request generates (before maxTokens and stop strings cut it). */
    static String script(GenerationRequest r, String prompt) {
        if (prompt.contains("short")) {
            return "Hi!";
        }
        String unit = r.sampling().temperature() == 0f ? GREEDY_TEXT : "seed " + r.sampling().seed() + " says hello. ";
        return unit.repeat(1 + (r.maxTokens() + 1) / unit.length());
    }

    @Override
    public synchronized RequestHandle submit(GenerationRequest request, TokenSink sink) {
        if (!accepting) {
            throw new EngineException.Rejected(EngineException.Kind.SHUTTING_DOWN, "the engine is shutting down");
        }
        if (live.get() >= capacity) {
            throw new EngineException.Rejected(EngineException.Kind.OVERLOADED, "the queue is full (" + capacity + " requests)");
        }
        live.incrementAndGet();
        submitted.incrementAndGet();
        Job j = new Job(request, sink);
        all.add(j);
        if (holding) {
            held.add(j);
        } else {
            exec.execute(j::step);
        }
        return j::cancel;
    }

    synchronized void hold() {
        holding = true;
    }

    synchronized void release() {
        holding = false;
        held.forEach(j -> exec.execute(j::step));
        held.clear();
    }

    @Override
    public ModelInfo model() {
        return info;
    }

    @Override
    public void shutdown(long graceMillis) throws InterruptedException {
        synchronized (this) {
            accepting = false;
        }
        long end = System.nanoTime() + graceMillis * 1_000_000;
        while (live.get() > 0 && System.nanoTime() < end) {
            Thread.sleep(5);
        }
        synchronized (this) {
            all.forEach(Job::cancel);
            release();
        }
        while (live.get() > 0) {
            Thread.sleep(5);
        }
    }

    @Override
    public void close() {
        try {
            shutdown(0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        exec.shutdownNow();
    }

    private final class Job {
        final GenerationRequest r;
        final TokenSink sink;
        final String prompt;
        final byte[] script;
        final AtomicBoolean cancel = new AtomicBoolean();
        final StringBuilder gen = new StringBuilder();
        int emitted; // chars of gen handed to the sink
        int count;
        boolean ended;

        Job(GenerationRequest r, TokenSink sink) {
            this.r = r;
            this.sink = sink;
            this.prompt = info.tokenizer().decode(r.promptTokens());
            this.script = FakeEngine.script(r, prompt).getBytes(StandardCharsets.UTF_8);
        }

        void cancel() {
            cancel.set(true);
            synchronized (FakeEngine.this) {
                if (held.remove(this)) {
                    exec.execute(this::step); // a queued request ends at once
                }
            }
        }

        synchronized void step() {
            if (ended) {
                return;
            }
            if (cancel.get()) {
                end();
                cancelled.incrementAndGet();
                sink.onFinish(FinishReason.CANCELLED, new Usage(r.promptTokens().length, count));
                return;
            }
            if (prompt.contains("fail-now") || prompt.contains("fail-later") && count == 3) {
                end();
                sink.onError(new EngineException(EngineException.Kind.INTERNAL, "simulated engine failure"));
                return;
            }
            if (count == script.length) { // "short": end of generation
                count++;
                end();
                finished.incrementAndGet();
                sink.onToken(FakeTokenizer.EOS, "", lp(FakeTokenizer.EOS));
                sink.onFinish(FinishReason.STOP, new Usage(r.promptTokens().length, count));
                return;
            }
            int tokenId = FakeTokenizer.BYTE0 + (script[count] & 0xff);
            gen.append(String.valueOf((char) script[count]).repeat(bytesPerToken));
            count++;
            String stopHit = null;
            int stopAt = -1;
            for (String s : r.stop()) {
                int k = gen.indexOf(s, Math.max(0, emitted - s.length()));
                if (k >= 0 && (stopAt < 0 || k < stopAt)) {
                    stopAt = k;
                    stopHit = s;
                }
            }
            if (stopHit != null) {
                String piece = gen.substring(Math.min(emitted, stopAt), stopAt);
                end();
                finished.incrementAndGet();
                sink.onToken(tokenId, piece, lp(tokenId));
                sink.onFinish(FinishReason.STOP, new Usage(r.promptTokens().length, count));
                return;
            }
            boolean last = count == r.maxTokens();
            int upTo = last ? gen.length() : gen.length() - heldBack();
            String piece = gen.substring(emitted, Math.max(emitted, upTo));
            emitted = Math.max(emitted, upTo);
            sink.onToken(tokenId, piece, lp(tokenId));
            if (last) {
                end();
                finished.incrementAndGet();
                sink.onFinish(FinishReason.LENGTH, new Usage(r.promptTokens().length, count));
                return;
            }
            if (tokenDelayMicros > 0) {
                exec.schedule(this::step, tokenDelayMicros, TimeUnit.MICROSECONDS);
            } else {
                exec.execute(this::step);
            }
        }

        /** Length of the longest suffix of gen that begins some stop string. */
        private int heldBack() {
            int best = 0;
            for (String s : r.stop()) {
                for (int k = Math.min(s.length() - 1, gen.length()); k > best; k--) {
                    if (gen.substring(gen.length() - k).equals(s.substring(0, k))) {
                        best = k;
                        break;
                    }
                }
            }
            return best;
        }

        private Logprobs lp(int tokenId) {
            if (!r.logprobs()) {
                return null;
            }
            float chosen = -0.25f * (count % 7);
            int k = r.topLogprobs();
            int[] ids = new int[k];
            float[] lps = new float[k];
            for (int i = 0; i < k; i++) {
                ids[i] = FakeTokenizer.BYTE0 + ((tokenId - FakeTokenizer.BYTE0 + i) & 0xff);
                lps[i] = chosen - i;
            }
            return new Logprobs(chosen, ids, lps);
        }

        private void end() {
            ended = true;
            live.decrementAndGet();
        }
    }
}
