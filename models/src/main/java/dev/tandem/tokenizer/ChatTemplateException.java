package dev.tandem.tokenizer;

/** A conversation a chat template refuses (raise_exception), or a template that cannot be rendered. */
public final class ChatTemplateException extends RuntimeException {
    private final boolean raisedByTemplate;

    public ChatTemplateException(String message, boolean raisedByTemplate) {
        super(message);
        this.raisedByTemplate = raisedByTemplate;
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
        this.raisedByTemplate = false;
    }

    /** True when the template itself called {@code raise_exception} (a client error, 400). */
    public boolean raisedByTemplate() {
        return raisedByTemplate;
    }
}
