package dev.tandem.cluster;

import dev.tandem.engine.EngineException;
import dev.tandem.engine.FinishReason;
import dev.tandem.engine.Logprobs;
import dev.tandem.engine.TokenSink;
import dev.tandem.engine.Usage;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Records a request's output; {@link #await} returns once its one terminal call came. */
final class CollectingSink implements TokenSink {
    final List<Integer> tokens = new ArrayList<>();
    final List<String> pieces = new ArrayList<>();
    final List<Logprobs> logprobs = new ArrayList<>();
    final CompletableFuture<String> done = new CompletableFuture<>();
    volatile FinishReason reason;
    volatile Usage usage;
    volatile EngineException error;
    volatile int terminalCalls;

    @Override
    public synchronized void onToken(int tokenId, String textPiece, Logprobs lp) {
        tokens.add(tokenId);
        pieces.add(textPiece);
        logprobs.add(lp);
    }

    @Override
    public synchronized void onFinish(FinishReason r, Usage u) {
        reason = r;
        usage = u;
        terminalCalls++;
        done.complete("finish " + r);
    }

    @Override
    public synchronized void onError(EngineException e) {
        error = e;
        terminalCalls++;
        done.complete("error " + e.getMessage());
    }

    String await(int seconds) throws Exception {
        return done.get(seconds, TimeUnit.SECONDS);
    }

    /** Tokens, text pieces and log-probabilities as exact text (floats as their bits), to compare runs. */
    synchronized String transcript() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) {
            s.append(tokens.get(i)).append(" '").append(pieces.get(i)).append("'");
            Logprobs lp = logprobs.get(i);
            if (lp != null) {
                s.append(" lp=").append(Integer.toHexString(Float.floatToRawIntBits(lp.logprob())));
                for (int k = 0; k < lp.topIds().length; k++) {
                    s.append(' ').append(lp.topIds()[k]).append(':').append(Integer.toHexString(Float.floatToRawIntBits(lp.topLogprobs()[k])));
                }
            }
            s.append('\n');
        }
        return s.append("end ").append(reason).append(' ').append(usage).append(error == null ? "" : " " + error.getMessage()).toString();
    }
}
