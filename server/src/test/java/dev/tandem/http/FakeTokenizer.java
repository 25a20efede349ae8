package dev.tandem.http;

import dev.tandem.tokenizer.Tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A byte-level test vocabulary: 0 {@code <unk>}, 1 {@code <s>} (BOS), 2 {@code </s>} (EOS), then 256 byte
 * tokens (id 3 + b). Text ↔ ids is UTF-8 bytes, so expected ids and texts are computed by hand in tests.
 */
final class FakeTokenizer implements Tokenizer {
    static final int BOS = 1, EOS = 2, BYTE0 = 3;

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        ByteArrayOutputStream ids = new ByteArrayOutputStream();
        java.util.List<Integer> out = new java.util.ArrayList<>();
        if (addSpecial) {
            out.add(BOS);
        }
        String rest = text;
        while (!rest.isEmpty()) {
            if (parseSpecial && rest.startsWith("<s>")) {
                out.add(BOS);
                rest = rest.substring(3);
                continue;
            }
            int cp = rest.codePointAt(0);
            String ch = new String(Character.toChars(cp));
            for (byte b : ch.getBytes(StandardCharsets.UTF_8)) {
                out.add(BYTE0 + (b & 0xff));
            }
            rest = rest.substring(ch.length());
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Ids of {@code text} without BOS: one per UTF-8 byte. */
    static int[] ids(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            ids[i] = BYTE0 + (b[i] & 0xff);
        }
        return ids;
    }

    @Override
    public byte[] tokenBytes(int id) {
        return tokenBytes(id, false);
    }

    @Override
    public byte[] tokenBytes(int id, boolean special) {
        if (id < 0 || id >= vocabSize()) {
            throw new IllegalArgumentException("token " + id + " outside the vocabulary");
        }
        if (id < BYTE0) {
            return special ? tokenText(id).getBytes(StandardCharsets.UTF_8) : new byte[0];
        }
        return new byte[] {(byte) (id - BYTE0)};
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int id : ids) {
            b.writeBytes(tokenBytes(id));
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    @Override
    public boolean stripsLeadingSpace() {
        return false;
    }

    @Override
    public int vocabSize() {
        return BYTE0 + 256;
    }

    @Override
    public int bos() {
        return BOS;
    }

    @Override
    public int eos() {
        return EOS;
    }

    @Override
    public boolean addsBos() {
        return true;
    }

    @Override
    public boolean addsEos() {
        return false;
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return id == EOS;
    }

    @Override
    public String tokenText(int id) {
        return switch (id) {
            case 0 -> "<unk>";
            case BOS -> "<s>";
            case EOS -> "</s>";
            default -> String.format("<0x%02X>", id - BYTE0);
        };
    }

    @Override
    public int tokenId(String text) {
        for (int i = 0; i < vocabSize(); i++) {
            if (tokenText(i).equals(text)) {
                return i;
            }
        }
        return -1;
    }
}
