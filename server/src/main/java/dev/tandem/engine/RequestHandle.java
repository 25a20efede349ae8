package dev.tandem.engine;

/** A submitted request, as its submitter sees it. */
public interface RequestHandle {
    /**
     * Asks the engine to stop the request (client gone, shutdown). Idempotent; the request ends
     * with {@link FinishReason#CANCELLED} within one decode step unless it already ended.
     */
    void cancel();
}
