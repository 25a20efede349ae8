package dev.tandem.gguf;

/** A GGUF file that cannot be used, with a one-line message naming the file and the problem. */
public final class GgufException extends RuntimeException {
    public GgufException(String message) {
        super(message);
    }

    public GgufException(String message, Throwable cause) {
        super(message, cause);
    }
}
