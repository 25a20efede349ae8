package dev.tandem.tokenizer;

/**
 * Token attribute bits, as llama.cpp keeps them per token ({@code llama_token_attr}). A GGUF file stores
 * one token <em>type</em> per token ({@code tokenizer.ggml.token_type}); {@link #fromType} maps it to
 * these bits, and loading may add more (CONTROL for end-of-generation texts, RSTRIP for Phi-3 specials).
 */
final class TokenAttr {
    static final int UNDEFINED = 0;
    static final int UNKNOWN = 1;
    static final int UNUSED = 1 << 1;
    static final int NORMAL = 1 << 2;
    static final int CONTROL = 1 << 3;
    static final int USER_DEFINED = 1 << 4;
    static final int BYTE = 1 << 5;
    static final int NORMALIZED = 1 << 6;
    static final int LSTRIP = 1 << 7;
    static final int RSTRIP = 1 << 8;
    static final int SINGLE_WORD = 1 << 9;

    private TokenAttr() {}

    /** GGUF token type (0 undefined, 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte) → attribute bits. */
    static int fromType(int type) {
        return switch (type) {
            case 1 -> NORMAL;
            case 2 -> UNKNOWN;
            case 3 -> CONTROL;
            case 4 -> USER_DEFINED;
            case 5 -> UNUSED;
            case 6 -> BYTE;
            default -> UNDEFINED;
        };
    }
}
