package dev.tandem.engine;

/**
 * Where a request's output goes. Called from engine threads; implementations must not block
 * (hand the data to an event loop and return). Exactly one of {@link #onFinish} / {@link #onError}
 * is called per request, after every {@link #onToken}.
 */
public interface TokenSink {
    /**
     * One generated token. {@code textPiece} is the text that became complete with it (possibly
     * empty: a UTF-8 character split across tokens, or text held back while it may begin a stop
     * string). {@code logprobs} is null unless the request asked for them.
     *
     * <p>Every generated token comes here once, so the calls number {@code Usage.completionTokens}:
     * the end-of-generation token that stops a request too, with only text held back before it as
     * its piece (never its own text), and the token that completes a stop string, with the text
     * before the stop string.
     */
    void onToken(int tokenId, String textPiece, Logprobs logprobs);

    /** The request ended normally or was cancelled; {@code usage} counts what was computed. */
    void onFinish(FinishReason reason, Usage usage);

    /** The request failed. */
    void onError(EngineException error);
}
