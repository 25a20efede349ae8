package dev.tandem.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * GPT-2's byte ↔ character mapping for byte-level BPE: every byte becomes one printable character, so a
 * token's text is a string of those characters. Bytes '!'..'~', '¡'..'¬' and '®'..'ÿ' map to themselves;
 * the other 68 bytes, in increasing order, map to U+0100, U+0101, … (so a space is 'Ġ' U+0120, '\n' is 'Ċ').
 */
final class ByteUnicode {
    private static final int[] BYTE_TO_CP = new int[256];       // [256] byte → code point
    private static final byte[][] BYTE_TO_UTF8 = new byte[256][]; // [256] byte → UTF-8 of its code point
    private static final int[] CP_TO_BYTE = new int[0x144];     // code point → byte, -1 when no byte maps to it

    static {
        java.util.Arrays.fill(CP_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            int cp = printable ? b : next++;
            BYTE_TO_CP[b] = cp;
            CP_TO_BYTE[cp] = b;
            BYTE_TO_UTF8[b] = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
        }
    }

    private ByteUnicode() {}

    static int codePoint(int b) {
        return BYTE_TO_CP[b & 0xFF];
    }

    /** Appends the UTF-8 of byte {@code b}'s character to {@code out} at {@code pos}; returns the new position. */
    static int encode(byte b, byte[] out, int pos) {
        byte[] e = BYTE_TO_UTF8[b & 0xFF];
        for (byte x : e) {
            out[pos++] = x;
        }
        return pos;
    }

    /**
     * The bytes a byte-level token text stands for, as llama.cpp's {@code llama_decode_text}: each character back to
     * its byte; a character no byte maps to becomes {@code [UNK_BYTE_0x<its UTF-8 in hex><the whole text>]}.
     */
    static byte[] decode(byte[] tokenText) {
        String text = new String(tokenText, StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(tokenText.length);
        text.codePoints().forEach(cp -> {
            int b = cp < CP_TO_BYTE.length ? CP_TO_BYTE[cp] : -1;
            if (b >= 0) {
                out.write(b);
            } else {
                StringBuilder sb = new StringBuilder("[UNK_BYTE_0x");
                for (byte x : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                    sb.append(String.format("%02x", x & 0xFF));
                }
                out.writeBytes(sb.append(text).append(']').toString().getBytes(StandardCharsets.UTF_8));
            }
        });
        return out.toByteArray();
    }
}
