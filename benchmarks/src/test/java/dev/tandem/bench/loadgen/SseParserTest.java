package dev.tandem.bench.loadgen;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SseParserTest {
    private static final String STREAM = "data: {\"a\":1}\n\n"
            + ": keep-alive\n\n"
            + "event: message\r\ndata: {\"text\":\"é€😀\"}\r\n\r\n"
            + "data: first\ndata: second\n\n"
            + "id: 7\nretry: 10\n\n"
            + "data:[DONE]\n\n";
    private static final List<String> EVENTS = List.of("{\"a\":1}", "{\"text\":\"é€😀\"}", "first\nsecond", "[DONE]");

    private static List<String> parse(byte[] bytes, int... cuts) {
        List<String> out = new ArrayList<>();
        SseParser p = new SseParser((data, nanos) -> out.add(data));
        int from = 0;
        for (int cut : cuts) {
            p.feed(ByteBuffer.wrap(bytes, from, cut - from), 0);
            from = cut;
        }
        p.feed(ByteBuffer.wrap(bytes, from, bytes.length - from), 0);
        p.end(0);
        return out;
    }

    @Test
    void wholeStreamGivesEachEventOnce() {
        assertEquals(EVENTS, parse(STREAM.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void everySplitPointGivesTheSameEvents() {
        byte[] b = STREAM.getBytes(StandardCharsets.UTF_8);
        for (int cut = 1; cut < b.length; cut++) {
            assertEquals(EVENTS, parse(b, cut), "split at byte " + cut + " of " + b.length);
        }
    }

    @Test
    void oneByteAtATimeGivesTheSameEvents() {
        byte[] b = STREAM.getBytes(StandardCharsets.UTF_8);
        int[] cuts = new int[b.length - 1];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = i + 1;
        }
        assertEquals(EVENTS, parse(b, cuts));
    }

    @Test
    void eventStampedWithTheBufferThatCompletedIt() {
        List<Long> stamps = new ArrayList<>();
        SseParser p = new SseParser((data, nanos) -> stamps.add(nanos));
        p.feed(ByteBuffer.wrap("data: x\n".getBytes(StandardCharsets.UTF_8)), 10);
        p.feed(ByteBuffer.wrap("\ndata: y\n\nda".getBytes(StandardCharsets.UTF_8)), 20);
        p.feed(ByteBuffer.wrap("ta: z\n\n".getBytes(StandardCharsets.UTF_8)), 30);
        assertEquals(List.of(20L, 20L, 30L), stamps);
    }

    @Test
    void lastEventWithoutBlankLineStillCounts() {
        assertEquals(List.of("tail"), parse("data: tail".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void overlongLineIsAnError() {
        SseParser p = new SseParser((data, nanos) -> { });
        byte[] chunk = new byte[1 << 20];
        java.util.Arrays.fill(chunk, (byte) 'x');
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
            for (int i = 0; i <= SseParser.MAX_LINE_BYTES / chunk.length; i++) {
                p.feed(ByteBuffer.wrap(chunk), 0);
            }
        });
        assertEquals("an event-stream line is longer than " + SseParser.MAX_LINE_BYTES + " bytes", e.getMessage());
    }
}
