package dev.tandem.engine;

import java.util.List;

/**
 * Finds stop strings in one request's generated text, which arrives in pieces (one per token).
 * Text is released as soon as it can no longer be part of a stop string; a tail that may be the
 * start of one is held back. On a match, only the text before the stop string is released and the
 * stop string never is — also when it is split across tokens.
 *
 * <p>Why holding back the shortest-start tail is enough: let {@code i} be the first offset of the
 * unreleased text whose remainder is a prefix of some stop string. An occurrence starting before
 * {@code i} either lies wholly inside the text seen so far (found now) or runs past its end, and
 * then the remainder from its start would be a prefix of that stop string — contradicting the
 * choice of {@code i}. So released text never reaches into a later match.
 *
 * <p>Not thread-safe: one per request. With no stop strings, {@link #offer} returns its argument
 * and allocates nothing.
 */
final class StopMatcher {
    private final String[] stops;        // non-empty stop strings
    private final StringBuilder held;    // text not yet released: a possible start of a stop string
    private boolean stopped;

    StopMatcher(List<String> stopStrings) {
        this.stops = stopStrings.stream().filter(s -> !s.isEmpty()).distinct().toArray(String[]::new);
        this.held = stops.length == 0 ? null : new StringBuilder();
    }

    /** Whether a stop string has been found; after it, {@link #offer} must not be called. */
    boolean stopped() {
        return stopped;
    }

    /**
     * Adds the next piece of text; returns the text that may be released now (possibly empty).
     * When this piece completes a stop string, {@link #stopped()} becomes true and the return
     * value is the text before the stop string's first occurrence.
     */
    String offer(String piece) {
        if (stopped) {
            throw new IllegalStateException("a stop string was already found");
        }
        if (held == null) {
            return piece;
        }
        if (piece.isEmpty() && held.isEmpty()) {
            return piece;
        }
        held.append(piece);
        int match = firstMatch();
        if (match >= 0) {
            stopped = true;
            String before = held.substring(0, match);
            held.setLength(0);
            return before;
        }
        int keep = firstPossibleStart();
        String out = held.substring(0, keep);
        held.delete(0, keep);
        return out;
    }

    /** The held-back text, released because the request ends without a stop string (length, end of generation). */
    String drain() {
        if (held == null || held.isEmpty()) {
            return "";
        }
        String s = held.toString();
        held.setLength(0);
        return s;
    }

    /** The earliest offset in held at which some stop string occurs whole, or -1. */
    private int firstMatch() {
        int best = -1;
        for (String s : stops) {
            int at = held.indexOf(s);
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
            }
        }
        return best;
    }

    /** The first offset whose remainder of held is a (proper) prefix of some stop string; held.length() when none. */
    private int firstPossibleStart() {
        int n = held.length();
        for (int i = 0; i < n; i++) {
            int rest = n - i;
            for (String s : stops) {
                if (rest < s.length() && startsWithRegion(s, i, rest)) {
                    return i;
                }
            }
        }
        return n;
    }

    /** Whether held[from, from + len) equals s[0, len). */
    private boolean startsWithRegion(String s, int from, int len) {
        for (int j = 0; j < len; j++) {
            if (held.charAt(from + j) != s.charAt(j)) {
                return false;
            }
        }
        return true;
    }
}
