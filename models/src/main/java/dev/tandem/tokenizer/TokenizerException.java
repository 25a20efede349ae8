package dev.tandem.tokenizer;

/** A tokenizer that cannot be built from a file's metadata, or input it cannot encode; the message is one readable line. */
public final class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }
}
