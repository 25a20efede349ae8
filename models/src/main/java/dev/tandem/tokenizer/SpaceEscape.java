package dev.tandem.tokenizer;

/** SentencePiece's whitespace escape: a space is stored as U+2581 "▁" (UTF-8 E2 96 81) inside token texts. */
final class SpaceEscape {
    static final byte B0 = (byte) 0xE2, B1 = (byte) 0x96, B2 = (byte) 0x81;

    private SpaceEscape() {}

    /** {@code prefix ? "▁" : ""} + text[off, off + len) with every ' ' replaced by "▁". */
    static byte[] escape(byte[] text, int off, int len, boolean prefix) {
        int spaces = prefix ? 1 : 0;
        for (int i = off; i < off + len; i++) {
            if (text[i] == ' ') {
                spaces++;
            }
        }
        byte[] out = new byte[len + 2 * spaces + (prefix ? 1 : 0)];
        int o = 0;
        if (prefix) {
            out[o++] = B0;
            out[o++] = B1;
            out[o++] = B2;
        }
        for (int i = off; i < off + len; i++) {
            byte b = text[i];
            if (b == ' ') {
                out[o++] = B0;
                out[o++] = B1;
                out[o++] = B2;
            } else {
                out[o++] = b;
            }
        }
        return out;
    }

    /** Every "▁" replaced by ' '; the same array when there is none. */
    static byte[] unescape(byte[] text) {
        int count = 0;
        for (int i = 0; i + 2 < text.length; i++) {
            if (text[i] == B0 && text[i + 1] == B1 && text[i + 2] == B2) {
                count++;
                i += 2;
            }
        }
        if (count == 0) {
            return text;
        }
        byte[] out = new byte[text.length - 2 * count];
        int o = 0;
        for (int i = 0; i < text.length; i++) {
            if (i + 2 < text.length && text[i] == B0 && text[i + 1] == B1 && text[i + 2] == B2) {
                out[o++] = ' ';
                i += 2;
            } else {
                out[o++] = text[i];
            }
        }
        return out;
    }
}
