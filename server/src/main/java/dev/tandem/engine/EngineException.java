package dev.tandem.engine;

/** A request the engine could not take or complete, with a kind the front end maps to a status. */
public class EngineException extends RuntimeException {
    public enum Kind {
        /** The request cannot be served as asked (e.g. prompt + max tokens exceed the context): 400. */
        INVALID_REQUEST,
        /** The queue is full: 429, retry later. */
        OVERLOADED,
        /** The engine is shutting down: 503. */
        SHUTTING_DOWN,
        /** A bug or resource failure: 500. */
        INTERNAL
    }

    private final Kind kind;

    public EngineException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public EngineException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** Thrown by {@link Engine#submit} when a request is refused at admission. */
    public static final class Rejected extends EngineException {
        public Rejected(Kind kind, String message) {
            super(kind, message);
        }
    }
}
