package dev.tandem.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The SentencePiece tokenizer ({@code tokenizer.ggml.model = "llama"}), as llama.cpp's SPM path in
 * {@code llama_vocab::impl::tokenize}: split out special tokens, then each raw fragment gets a "▁" prefix
 * when add_space_prefix is on and it starts the text or follows a special token, has its spaces escaped
 * to "▁", and goes through {@link SpmMerger}.
 */
final class SentencePieceTokenizer implements Tokenizer {
    private final Vocabulary v;

    SentencePieceTokenizer(Vocabulary v) {
        this.v = v;
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
    public byte[] tokenBytes(int id) {
        return tokenBytes(id, false);
    }

    @Override
    public byte[] tokenBytes(int id, boolean special) {
        return v.piece(id, special).clone();
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(ids.length * 4);
        boolean strip = v.addSpacePrefix;
        for (int id : ids) {
            byte[] p = v.piece(id, false);
            int skip = strip && p.length > 0 && p[0] == ' ' ? 1 : 0;
            buf.write(p, skip, p.length - skip);
            strip = false;
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Override
    public boolean stripsLeadingSpace() {
        return v.addSpacePrefix;
    }

    @Override
    public int vocabSize() {
        return v.size();
    }

    @Override
    public int bos() {
        return v.bos;
    }

    @Override
    public int eos() {
        return v.eos;
    }

    @Override
    public boolean addsBos() {
        return v.addBos;
    }

    @Override
    public boolean addsEos() {
        return v.addEos;
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return id >= 0 && id < v.size() && v.eog[id];
    }

    @Override
    public String tokenText(int id) {
        v.check(id);
        return v.strings[id];
    }

    @Override
    public int tokenId(String text) {
        return v.table.find(text.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "SentencePiece tokenizer (" + v.size() + " tokens) from " + v.file;
    }
}
