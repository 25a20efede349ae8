package dev.tandem.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits text into raw-text fragments and special tokens, as llama.cpp's {@code tokenizer_st_partition}:
 * each special token in turn, longest text first, is found (left to right, non-overlapping) in every
 * fragment still raw. CONTROL and UNKNOWN tokens are matched only when {@code parseSpecial};
 * USER_DEFINED tokens always are. A token with LSTRIP / RSTRIP eats the whitespace before / after it.
 */
final class SpecialTokenSplitter {
    /** A special token ({@code token >= 0}) or the raw bytes {@code [off, off + len)} of the text ({@code token == -1}). */
    record Fragment(int token, int off, int len) {
        boolean isToken() {
            return token >= 0;
        }
    }

    private SpecialTokenSplitter() {}

    static List<Fragment> split(Vocabulary v, byte[] text, boolean parseSpecial) {
        List<Fragment> frags = new ArrayList<>();
        if (text.length == 0) {
            return frags;
        }
        frags.add(new Fragment(-1, 0, text.length));
        for (int id : v.specialTokens) {
            if (!parseSpecial && v.has(id, TokenAttr.CONTROL | TokenAttr.UNKNOWN)) {
                continue;
            }
            byte[] tok = v.texts[id];
            boolean lstrip = v.has(id, TokenAttr.LSTRIP), rstrip = v.has(id, TokenAttr.RSTRIP);
            List<Fragment> next = null; // allocated on the first match
            for (int f = 0; f < frags.size(); f++) {
                Fragment frag = frags.get(f);
                int m = frag.isToken() ? -1 : indexOf(text, frag.off, frag.off + frag.len, tok);
                if (m < 0) {
                    if (next != null) {
                        next.add(frag);
                    }
                    continue;
                }
                if (next == null) {
                    next = new ArrayList<>(frags.subList(0, f));
                }
                int pos = frag.off, end = frag.off + frag.len;
                while (m >= 0) {
                    int leftEnd = m;
                    if (lstrip) {
                        while (leftEnd > pos && isSpace(text[leftEnd - 1])) {
                            leftEnd--;
                        }
                    }
                    if (leftEnd > pos) {
                        next.add(new Fragment(-1, pos, leftEnd - pos));
                    }
                    next.add(new Fragment(id, 0, 0));
                    pos = m + tok.length;
                    if (rstrip) {
                        while (pos < end && isSpace(text[pos])) {
                            pos++;
                        }
                    }
                    m = indexOf(text, pos, end, tok);
                }
                if (pos < end) {
                    next.add(new Fragment(-1, pos, end - pos));
                }
            }
            if (next != null) {
                frags = next;
            }
        }
        return frags;
    }

    /** C's isspace in the "C" locale. */
    private static boolean isSpace(byte b) {
        return b == ' ' || (b >= '\t' && b <= '\r');
    }

    /** First index of {@code pat} within {@code text[from, to)}, or -1. */
    static int indexOf(byte[] text, int from, int to, byte[] pat) {
        int n = pat.length;
        if (n == 0) {
            return -1;
        }
        byte first = pat[0];
        for (int i = from; i <= to - n; i++) {
            if (text[i] == first && java.util.Arrays.equals(text, i + 1, i + n, pat, 1, n)) {
                return i;
            }
        }
        return -1;
    }
}
