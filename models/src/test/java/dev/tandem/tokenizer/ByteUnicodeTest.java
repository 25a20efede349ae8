package dev.tandem.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** GPT-2's byte ↔ character table: printable Latin-1 bytes are themselves, the 68 others are U+0100.. in order. */
class ByteUnicodeTest {

    @Test
    void knownCharacters() {
        assertEquals('A', ByteUnicode.codePoint('A'));
        assertEquals(0x0100, ByteUnicode.codePoint(0x00));
        assertEquals(0x010A, ByteUnicode.codePoint('\n')); // 'Ċ'
        assertEquals(0x0120, ByteUnicode.codePoint(' '));  // 'Ġ'
        assertEquals(0x0121, ByteUnicode.codePoint(0x7F));
        assertEquals(0x0142, ByteUnicode.codePoint(0xA0));
        assertEquals(0x0143, ByteUnicode.codePoint(0xAD)); // the last of the 68
        assertEquals(0xFF, ByteUnicode.codePoint(0xFF));
    }

    @Test
    void everyByteRoundTrips() {
        for (int b = 0; b < 256; b++) {
            byte[] text = new String(Character.toChars(ByteUnicode.codePoint(b))).getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(new byte[] {(byte) b}, ByteUnicode.decode(text), "byte " + b);
        }
    }

    @Test
    void unmappedCharacterIsMarkedAsLlamaCppDoes() {
        // 'é' (U+00E9) maps to byte 0xE9; '€' (U+20AC, UTF-8 e2 82 ac) is no byte's character
        byte[] got = ByteUnicode.decode("é€".getBytes(StandardCharsets.UTF_8));
        byte[] expected = new byte[] {(byte) 0xE9};
        String marker = "[UNK_BYTE_0xe282acé€]";
        byte[] m = marker.getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[1 + m.length];
        all[0] = expected[0];
        System.arraycopy(m, 0, all, 1, m.length);
        assertArrayEquals(all, got);
    }
}
