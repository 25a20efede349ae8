package dev.tandem.tokenizer;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Streaming detokenization: characters split over byte tokens come out whole, and the pieces add up to decode(). */
class StreamingDecoderTest {
    private static final String SPM = "vocab/ggml-vocab-llama-spm.gguf";
    // CJK with and without their own tokens, emoji (byte fallback), Khmer, a musical symbol outside the BMP, accents
    private static final String TEXT = "日本語の文章も少し。 Emoji: 🦙🚀😶‍🌫️! ✅ កាន់តែពិសេស 𝄞 Café naïve résumé, Привет";

    private static int id(Tokenizer t, String text) {
        int id = t.tokenId(text);
        assertTrue(id >= 0, "the vocabulary has no token " + text);
        return id;
    }

    @Test
    void oneTokenAtATimeGivesDecodeAndNeverAHalfCharacter() {
        Tokenizer t = TestVocabs.tokenizer(SPM);
        int[] ids = t.encode(TEXT, false, false);
        long byteTokens = Arrays.stream(ids).filter(i -> t.tokenText(i).startsWith("<0x")).count();
        assertTrue(byteTokens >= 8, "the text should exercise byte fallback: " + TestVocabs.describe(t, ids));

        StreamingDecoder d = StreamingDecoder.likeDecode(t);
        StringBuilder sb = new StringBuilder();
        List<String> pieces = new ArrayList<>();
        for (int id : ids) {
            String piece = d.push(id);
            assertFalse(piece.contains("\uFFFD"), "piece for token " + id + " '" + t.tokenText(id) + "' has a broken character: " + pieces);
            pieces.add(piece);
            sb.append(piece);
        }
        sb.append(d.flush());
        assertEquals(t.decode(ids), sb.toString(), "pieces " + pieces);
        assertEquals(TEXT, sb.toString());
        assertTrue(pieces.contains(""), "some byte tokens must have been held back: " + pieces);
    }

    @Test
    void continuingAPromptKeepsTheLeadingSpace() {
        Tokenizer t = TestVocabs.tokenizer(SPM);
        StreamingDecoder d = new StreamingDecoder(t);
        StringBuilder sb = new StringBuilder();
        for (int id : t.encode(TEXT, true, false)) {
            sb.append(d.push(id));
        }
        sb.append(d.flush());
        assertEquals(" " + TEXT, sb.toString());

        StreamingDecoder g = new StreamingDecoder(t); // generated after "The capital is": " Paris" keeps its space
        assertEquals(" Paris", g.push(id(t, "▁Paris")));
    }

    @Test
    void anEmojiFromFourByteTokensAppearsWithTheLast() {
        Tokenizer t = TestVocabs.tokenizer(SPM);
        StreamingDecoder d = new StreamingDecoder(t);
        assertEquals("", d.push(id(t, "<0xF0>")));
        assertEquals("", d.push(id(t, "<0x9F>")));
        assertEquals("", d.push(id(t, "<0xA6>")));
        assertEquals("🦙", d.push(id(t, "<0x99>")));
        assertEquals("", d.flush());
    }

    @Test
    void flushTurnsAnIncompleteCharacterIntoReplacement() {
        Tokenizer t = TestVocabs.tokenizer(SPM);
        StreamingDecoder d = new StreamingDecoder(t);
        assertEquals("", d.push(id(t, "<0xF0>")));
        assertEquals("", d.push(id(t, "<0x9F>")));
        assertEquals("\uFFFD", d.flush());
        assertEquals(" Hello", d.push(id(t, "▁Hello")), "flush empties the decoder");
        assertEquals("", d.push(id(t, "<0xE4>")));
        assertEquals("\uFFFDA", d.push(id(t, "A")), "a lead byte followed by ASCII is a broken character, not held forever");
    }

    /** Random token sequences heavy in byte tokens (fixed seed): pieces + flush = all bytes read at once, U+FFFD included. */
    @Test
    void piecesEqualReadingAllBytesAtOnce() {
        Tokenizer t = TestVocabs.tokenizer(SPM);
        Random r = new Random(42);
        for (int seq = 0; seq < 300; seq++) {
            int[] ids = new int[1 + r.nextInt(24)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.nextInt(4) == 0 ? r.nextInt(t.vocabSize()) : 3 + r.nextInt(256); // 3..258: <0x00>..<0xFF>
            }
            StreamingDecoder d = new StreamingDecoder(t);
            StringBuilder sb = new StringBuilder();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (int id : ids) {
                sb.append(d.push(id));
                all.writeBytes(t.tokenBytes(id));
            }
            sb.append(d.flush());
            assertEquals(all.toString(StandardCharsets.UTF_8), sb.toString(), "ids " + Arrays.toString(ids));
        }
    }
}
