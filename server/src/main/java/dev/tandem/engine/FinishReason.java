package dev.tandem.engine;

/** Why a request ended without error. */
public enum FinishReason {
    /** An end-of-generation token or a stop string. */
    STOP,
    /** {@code maxTokens} generated, or the context is full. */
    LENGTH,
    /** Cancelled through its {@link RequestHandle} or by shutdown. */
    CANCELLED
}
