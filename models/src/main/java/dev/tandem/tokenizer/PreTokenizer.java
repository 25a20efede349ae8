package dev.tandem.tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * Splits a raw-text fragment into the words byte-level BPE merges within, as llama.cpp's
 * {@code unicode_regex_split}: the whole fragment is one piece, then each {@link Step} in turn splits every piece
 * into its matches and the text between them. Lengths are counted in code points. Immutable; thread-safe.
 *
 * @param name         the {@code tokenizer.ggml.pre} value it was chosen by (for messages)
 * @param steps        the splits, in order
 * @param addsBos      llama.cpp's default for add_bos_token with this pre-tokenizer (Llama 3: true)
 * @param ignoreMerges a word that is a whole token is taken as is, without merging (Llama 3)
 */
record PreTokenizer(String name, List<Step> steps, boolean addsBos, boolean ignoreMerges) {

    /** One split: refines the pieces {@code in} of {@code text} into {@code out}. */
    interface Step {
        void apply(Text text, Lengths in, Lengths out);
    }

    /** The code points of {@code cps} as pieces: their lengths in order, summing to {@code cps.length}. */
    Lengths split(int[] cps) {
        Text text = new Text(cps);
        Lengths cur = new Lengths(4);
        if (cps.length > 0) {
            cur.add(cps.length);
        }
        for (Step s : steps) {
            Lengths next = new Lengths(cur.size * 2 + 4);
            s.apply(text, cur, next);
            cur = next;
        }
        return cur;
    }

    /** The text being split, with views some steps need, built on first use. */
    static final class Text {
        final int[] cps; // [n] code points
        private String collapsed, wide;
        private int[] wideStart; // [n + 1] index in `wide` of each code point

        Text(int[] cps) {
            this.cps = cps;
        }

        int flags(int pos, int end) {
            return pos < end ? CodepointFlags.of(cps[pos]) : 0;
        }

        /**
         * One char per code point, as llama.cpp's collapsed text: ASCII as is, other whitespace as U+000B, other
         * characters as a stand-in for their category (U+00D1 number, D2 letter, D3 punctuation, D4 mark, D5 symbol,
         * D0 anything else).
         */
        String collapsed() {
            if (collapsed == null) {
                char[] c = new char[cps.length];
                for (int i = 0; i < cps.length; i++) {
                    int cp = cps[i];
                    if (cp < 128) {
                        c[i] = (char) cp;
                        continue;
                    }
                    int f = CodepointFlags.of(cp);
                    c[i] = (f & CodepointFlags.WHITESPACE) != 0 ? '\u000B' : switch (f & CodepointFlags.CATEGORIES) {
                        case CodepointFlags.NUMBER -> '\u00D1';
                        case CodepointFlags.LETTER -> '\u00D2';
                        case CodepointFlags.PUNCTUATION -> '\u00D3';
                        case CodepointFlags.MARK -> '\u00D4';
                        case CodepointFlags.SYMBOL -> '\u00D5';
                        default -> '\u00D0';
                    };
                }
                collapsed = new String(c);
            }
            return collapsed;
        }

        /** The text itself (UTF-16), with non-ASCII whitespace as U+000B, as llama.cpp gives std::wregex. */
        String wide() {
            if (wide == null) {
                StringBuilder sb = new StringBuilder(cps.length + 8);
                wideStart = new int[cps.length + 1];
                for (int i = 0; i < cps.length; i++) {
                    wideStart[i] = sb.length();
                    int cp = cps[i];
                    sb.appendCodePoint(cp > 0x7F && CodepointFlags.isWhitespace(cp) ? 0x0B : cp);
                }
                wideStart[cps.length] = sb.length();
                wide = sb.toString();
            }
            return wide;
        }

        /** Index in {@link #wide()} of code point {@code i}. */
        int wideIndex(int i) {
            return wideStart[i];
        }

        /** Code point index of char index {@code c} of {@link #wide()} (a code point boundary). */
        int cpIndex(int c) {
            int i = Arrays.binarySearch(wideStart, c);
            if (i < 0) {
                throw new IllegalStateException("char " + c + " splits a code point");
            }
            while (i > 0 && wideStart[i - 1] == c) { // never: every code point has at least one char
                i--;
            }
            return i;
        }
    }

    /** A growable list of piece lengths. */
    static final class Lengths {
        int[] a; // [size] lengths in code points
        int size;

        Lengths(int capacity) {
            a = new int[Math.max(4, capacity)];
        }

        void add(int len) {
            if (size == a.length) {
                a = Arrays.copyOf(a, size * 2);
            }
            a[size++] = len;
        }
    }
}
