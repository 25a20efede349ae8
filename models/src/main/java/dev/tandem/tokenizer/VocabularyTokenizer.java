package dev.tandem.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * What every vocabulary-backed tokenizer shares: decoding pieces to bytes (with llama.cpp's
 * first-token space rule), the special ids and their flags, and token lookups. Subclasses encode.
 */
abstract class VocabularyTokenizer implements Tokenizer {
    final Vocabulary v;

    VocabularyTokenizer(Vocabulary v) {
        this.v = v;
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
}
