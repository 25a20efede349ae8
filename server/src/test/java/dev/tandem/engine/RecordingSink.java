package dev.tandem.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A sink that records everything the engine tells it and counts terminal calls. Fields are written
 * on the scheduler thread; read them after {@link #await} (the future's completion orders them).
 */
final class RecordingSink implements TokenSink {
    final List<Integer> tokens = new ArrayList<>();
    final List<String> pieces = new ArrayList<>();
    final List<Logprobs> logprobs = new ArrayList<>();
    final StringBuilder text = new StringBuilder();
    final AtomicInteger terminalCalls = new AtomicInteger();
    final AtomicInteger callsAfterTerminal = new AtomicInteger();
    final CountDownLatch firstToken = new CountDownLatch(1);
    final CompletableFuture<Void> done = new CompletableFuture<>();
    volatile FinishReason reason;
    volatile Usage usage;
    volatile EngineException error;
    /** When ≥ 1, onToken throws on that token (1-based), to test a broken sink. */
    int throwOnToken;
    /**
     * When set, the first onToken waits for it (a test-only stall of the scheduler thread, so that
     * what the test does meanwhile — cancel, submit, shut down — happens at a known point).
     */
    volatile CountDownLatch gate;

    @Override
    public void onToken(int tokenId, String textPiece, Logprobs lp) {
        if (terminalCalls.get() > 0) {
            callsAfterTerminal.incrementAndGet();
        }
        tokens.add(tokenId);
        pieces.add(textPiece);
        logprobs.add(lp);
        text.append(textPiece);
        firstToken.countDown();
        CountDownLatch g = gate;
        if (g != null && tokens.size() == 1) {
            try {
                if (!g.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("gate not opened within 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (throwOnToken == tokens.size()) {
            throw new IllegalStateException("sink broken on purpose at token " + throwOnToken);
        }
    }

    @Override
    public void onFinish(FinishReason r, Usage u) {
        reason = r;
        usage = u;
        terminal();
    }

    @Override
    public void onError(EngineException e) {
        error = e;
        terminal();
    }

    private void terminal() {
        if (terminalCalls.incrementAndGet() > 1) {
            callsAfterTerminal.incrementAndGet();
        }
        done.complete(null);
    }

    RecordingSink await() throws Exception {
        done.get(30, TimeUnit.SECONDS);
        return this;
    }

    void awaitFirstToken() throws InterruptedException {
        if (!firstToken.await(30, TimeUnit.SECONDS)) {
            throw new AssertionError("no token within 30 s");
        }
    }

    /** A sink whose first onToken holds the scheduler until {@link #open}. */
    static RecordingSink gated() {
        RecordingSink s = new RecordingSink();
        s.gate = new CountDownLatch(1);
        return s;
    }

    void open() {
        gate.countDown();
    }

    int[] tokenArray() {
        return tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public String toString() {
        return "tokens=" + tokens + " text=\"" + text + "\" reason=" + reason + " usage=" + usage + " error=" + error
                + " terminalCalls=" + terminalCalls;
    }
}
