package dev.tandem.tokenizer;

import dev.tandem.gguf.GgufFile;

/** Builds the {@link Tokenizer} a GGUF file's {@code tokenizer.ggml.model} names. */
public final class Tokenizers {
    /** The values of {@code tokenizer.ggml.model} tandem reads, with what they are. */
    public static final String SUPPORTED = "llama (SentencePiece), gpt2 (byte-level BPE)";

    private Tokenizers() {}

    /**
     * The tokenizer described by {@code f}'s {@code tokenizer.*} metadata. The vocabulary is copied out of
     * the file, so the tokenizer stays usable after {@code f} is closed.
     *
     * @throws TokenizerException (one line, naming the file) when the model is missing or unsupported, or the
     *                            vocabulary metadata is malformed
     */
    public static Tokenizer fromGguf(GgufFile f) {
        String key = "tokenizer.ggml.model";
        if (!f.has(key)) {
            throw new TokenizerException(f.path() + ": missing metadata " + key + " (no tokenizer); tandem reads: " + SUPPORTED);
        }
        if (!(f.metadata().get(key) instanceof String model)) {
            throw new TokenizerException(f.path() + ": metadata " + key + " should be a string");
        }
        return switch (model) {
            case "llama" -> new SentencePieceTokenizer(VocabularyLoader.load(f, VocabularyLoader.SPM));
            case "gpt2" -> BpeTokenizer.fromGguf(f);
            default -> throw new TokenizerException(f.path() + ": unsupported tokenizer " + key + " = \"" + model
                    + "\"; tandem reads: " + SUPPORTED);
        };
    }
}
