package dev.tandem.engine;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopMatcherTest {

    /** Feeds pieces; returns the released text, with the held-back rest drained when no stop string was found. */
    private static String run(List<String> stops, String... pieces) {
        StopMatcher m = new StopMatcher(stops);
        StringBuilder out = new StringBuilder();
        for (String p : pieces) {
            out.append(m.offer(p));
            if (m.stopped()) {
                return out.toString();
            }
        }
        return out.append(m.drain()).toString();
    }

    @Test
    void noStopStringsPassesPiecesThrough() {
        StopMatcher m = new StopMatcher(List.of());
        String p = "abc";
        assertTrue(p == m.offer(p), "with no stop strings the piece itself is returned");
        assertEquals("", m.drain());
    }

    @Test
    void stopInsideOnePiece() {
        assertEquals("Hello ", run(List.of("world"), "Hello world and more"));
    }

    @Test
    void stopSplitAcrossPieces() {
        assertEquals("Hello ", run(List.of("world"), "Hello wo", "r", "ld!"));
    }

    @Test
    void heldTextIsReleasedWhenTheStopStringDoesNotFollow() {
        StopMatcher m = new StopMatcher(List.of("world"));
        assertEquals("Hello ", m.offer("Hello wor"));
        assertEquals("wornot", m.offer("not"));
        assertFalse(m.stopped());
        assertEquals("", m.drain());
    }

    @Test
    void earliestOfSeveralStopStringsWins() {
        assertEquals("a", run(List.of("cd", "bc"), "ab", "cd"));
        assertEquals("xy", run(List.of("zz", "z"), "xyzzz"));
    }

    @Test
    void aCompletedStopStringWinsOverALongerOneNotYetComplete() {
        // After "aaabc", "c" is complete; "bcc" (starting earlier) could only complete with text never generated.
        assertEquals("aaab", run(List.of("bcc", "c"), "aa", "abc", "ca"));
    }

    @Test
    void overlappingPrefixesAreHeldFromTheirFirstPossibleStart() {
        // "aab": after "aa" either a could begin "aab"; the first must be held.
        StopMatcher m = new StopMatcher(List.of("aab"));
        assertEquals("x", m.offer("xa"));
        assertEquals("", m.offer("a"));
        assertEquals("", m.offer("b"));
        assertTrue(m.stopped());
    }

    @Test
    void emptyStopStringsAreIgnored() {
        assertEquals("abc", run(List.of(""), "a", "b", "c"));
    }

    /**
     * Random texts cut into random pieces, against the rule computed on whole prefixes without any
     * holding back. (A stop string completed by a piece wins over a longer one that starts earlier
     * but is not complete yet: generation stops there, as in llama.cpp and OpenAI.)
     */
    @Test
    void randomPiecesMatchTheWholeTextRule() {
        SplittableRandom rnd = new SplittableRandom(20240607);
        for (int trial = 0; trial < 2000; trial++) {
            String text = randomText(rnd, 1 + rnd.nextInt(30));
            List<String> stops = List.of(randomText(rnd, 1 + rnd.nextInt(3)), randomText(rnd, 1 + rnd.nextInt(4)));
            List<String> pieces = new ArrayList<>();
            for (int i = 0; i < text.length(); ) {
                int len = Math.min(text.length() - i, rnd.nextInt(4));
                pieces.add(text.substring(i, i + len));
                i += len;
            }
            // The rule, on whole prefixes: stop at the first piece after which some stop string occurs
            // in the text so far, releasing the text before the earliest such occurrence.
            String expected = text;
            StringBuilder prefix = new StringBuilder();
            for (String piece : pieces) {
                prefix.append(piece);
                int first = -1;
                for (String s : stops) {
                    int at = prefix.indexOf(s);
                    if (at >= 0 && (first < 0 || at < first)) {
                        first = at;
                    }
                }
                if (first >= 0) {
                    expected = prefix.substring(0, first);
                    break;
                }
            }
            assertEquals(expected, run(stops, pieces.toArray(String[]::new)),
                    "text \"" + text + "\" stops " + stops + " pieces " + pieces);
        }
    }

    private static String randomText(SplittableRandom rnd, int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append((char) ('a' + rnd.nextInt(3)));
        }
        return b.toString();
    }
}
