package dev.tandem.tokenizer;

/**
 * Text ↔ token ids for one model's vocabulary, matching llama.cpp token for token. Implementations are
 * immutable and thread-safe; build one with {@link Tokenizers#fromGguf}. Per-sequence decoding state
 * lives in a {@link StreamingDecoder}.
 */
public interface Tokenizer {

    /**
     * The token ids of {@code text}.
     *
     * @param addSpecial   add BOS / EOS as the file says ({@code tokenizer.ggml.add_bos_token} /
     *                     {@code add_eos_token}; SentencePiece defaults: BOS yes, EOS no) — llama.cpp's {@code add_special}
     * @param parseSpecial treat the texts of CONTROL tokens (e.g. {@code <s>}, {@code <|end|>}) inside {@code text}
     *                     as those tokens; when false they are ordinary text. USER_DEFINED tokens are matched either
     *                     way — llama.cpp's {@code parse_special}
     * @throws TokenizerException when a character has no token and the vocabulary has no byte token for it
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /** {@code tokenBytes(id, false)}. */
    byte[] tokenBytes(int id);

    /**
     * The bytes token {@code id} contributes to decoded text (a fresh array): "▁" becomes a space, a
     * {@code <0xNN>} byte token is that one byte (possibly part of a UTF-8 character), a USER_DEFINED token is
     * its text. CONTROL and UNKNOWN tokens ({@code <s>}, {@code </s>}, {@code <unk>}) give nothing unless
     * {@code special}, then their text — llama.cpp's {@code token_to_piece} with {@code lstrip = 0}.
     *
     * @throws IllegalArgumentException when {@code id} is outside the vocabulary
     */
    byte[] tokenBytes(int id, boolean special);

    /**
     * The text of {@code ids}: their {@link #tokenBytes(int)} joined and read as UTF-8 (a malformed sequence becomes
     * U+FFFD), with llama.cpp's detokenize rule (remove_special = false, unparse_special = false): when
     * {@link #stripsLeadingSpace()}, one leading space of the <em>first</em> token's piece is dropped. A leading BOS is
     * that first token and renders as nothing, so {@code decode([BOS, ▁Hello]) = " Hello"} while
     * {@code decode([▁Hello]) = "Hello"}; hence {@code decode(encode(s, false, false)) = s}.
     */
    String decode(int[] ids);

    /** Whether {@link #decode} drops one leading space of the first token (SentencePiece with add_space_prefix). */
    boolean stripsLeadingSpace();

    int vocabSize();

    /** The beginning-of-sequence id, or -1 when the vocabulary has none. */
    int bos();

    /** The end-of-sequence id, or -1 when the vocabulary has none. */
    int eos();

    /** Whether {@link #encode} with {@code addSpecial} puts BOS first / EOS last. */
    boolean addsBos();

    boolean addsEos();

    /**
     * Whether generation stops at {@code id}: EOS, EOT ({@code tokenizer.ggml.eot_token_id}), EOM
     * ({@code eom_token_id}), FIM pad/repo/file-separator, and the texts llama.cpp treats as end of generation
     * ({@code <|eot_id|>}, {@code <|im_end|>}, {@code <|end|>}, {@code <end_of_turn>}, {@code <|endoftext|>}, {@code </s>}, …).
     * False for ids outside the vocabulary.
     */
    boolean isEndOfGeneration(int id);

    /** The token's text as stored in the vocabulary ("▁Hello", "<0x0A>", "<s>"). */
    String tokenText(int id);

    /** The id of the token whose stored text is exactly {@code text}, or -1. */
    int tokenId(String text);
}
