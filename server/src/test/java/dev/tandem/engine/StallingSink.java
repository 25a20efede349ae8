package dev.tandem.engine;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A {@link RecordingSink} whose {@code atToken}-th onToken (1-based) holds the engine thread that
 * delivers it until {@link #open} — in the split engine, token 1 stalls the prefill thread and a
 * later token the decode worker — so a test can act while a request is in a known state.
 */
final class StallingSink implements TokenSink {
    final RecordingSink rec = new RecordingSink();
    private final int atToken;
    private final CountDownLatch reached = new CountDownLatch(1);
    private final CountDownLatch gate = new CountDownLatch(1);

    StallingSink(int atToken) {
        this.atToken = atToken;
    }

    @Override
    public void onToken(int tokenId, String textPiece, Logprobs logprobs) {
        rec.onToken(tokenId, textPiece, logprobs);
        if (rec.tokens.size() == atToken) {
            reached.countDown();
            try {
                if (!gate.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("gate not opened within 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void onFinish(FinishReason reason, Usage usage) {
        rec.onFinish(reason, usage);
    }

    @Override
    public void onError(EngineException error) {
        rec.onError(error);
    }

    /** Waits until the engine thread is held inside onToken of token {@code atToken}. */
    void awaitStalled() throws InterruptedException {
        if (!reached.await(30, TimeUnit.SECONDS)) {
            throw new AssertionError("token " + atToken + " not reached within 30 s: " + rec);
        }
    }

    void open() {
        gate.countDown();
    }
}
