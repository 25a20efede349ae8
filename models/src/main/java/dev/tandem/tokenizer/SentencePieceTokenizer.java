package dev.tandem.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * The SentencePiece tokenizer ({@code tokenizer.ggml.model = "llama"}), as llama.cpp's SPM path in
 * {@code llama_vocab::impl::tokenize}: split out special tokens, then each raw fragment gets a "▁" prefix
 * when add_space_prefix is on and it starts the text or follows a special token, has its spaces escaped
 * to "▁", and goes through {@link SpmMerger}.
 */
final class SentencePieceTokenizer extends VocabularyTokenizer {

    SentencePieceTokenizer(Vocabulary v) {
        super(v);
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        IntList out = new IntList(bytes.length / 3 + 4);
        if (addSpecial && v.addBos) {
            out.add(v.bos);
        }
        boolean prevSpecial = true; // the first fragment is prefixed like one after a special token
        for (SpecialTokenSplitter.Fragment frag : SpecialTokenSplitter.split(v, bytes, parseSpecial)) {
            if (frag.isToken()) {
                out.add(frag.token());
                prevSpecial = true;
            } else {
                byte[] escaped = SpaceEscape.escape(bytes, frag.off(), frag.len(), v.addSpacePrefix && prevSpecial);
                SpmMerger.encode(v, escaped, out);
                prevSpecial = false;
            }
        }
        if (addSpecial && v.addEos) {
            out.add(v.eos);
        }
        return out.toArray();
    }

    @Override
    public String toString() {
        return "SentencePiece tokenizer (" + v.size() + " tokens) from " + v.file;
    }
}
