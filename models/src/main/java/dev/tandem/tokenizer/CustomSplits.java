package dev.tandem.tokenizer;

import static dev.tandem.tokenizer.CodepointFlags.LETTER;
import static dev.tandem.tokenizer.CodepointFlags.NUMBER;
import static dev.tandem.tokenizer.CodepointFlags.WHITESPACE;

/**
 * Hand-written scanners for the two pre-tokenizer patterns llama.cpp does not run through a regex engine
 * ({@code unicode_regex_split_custom_gpt2} / {@code _llama3}); their results are what llama.cpp produces, quirks
 * included (e.g. a run of whitespace before a non-space leaves its last character for the next word).
 * Each piece is scanned on its own: positions outside it have no flags.
 */
final class CustomSplits {
    private CustomSplits() {}

    /** {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+} */
    static final PreTokenizer.Step GPT2 = (text, in, out) -> {
        int start = 0;
        for (int p = 0; p < in.size; p++) {
            int ini = start, end = start + in.a[p];
            start = end;
            int[] cps = text.cps;
            int pos = ini;
            while (pos < end) {
                int cp = cps[pos];
                int flags = text.flags(pos, end);
                int c = contraction(cps, pos, end, false);
                if (c > 0) {
                    out.add(c);
                    pos += c;
                    continue;
                }
                boolean space = cp == ' ';
                int f2 = space ? text.flags(pos + 1, end) : flags;
                int from = pos;
                if ((f2 & LETTER) != 0 || (f2 & NUMBER) != 0 || isOther(f2)) {
                    int kind = (f2 & LETTER) != 0 ? LETTER : (f2 & NUMBER) != 0 ? NUMBER : 0;
                    if (space) {
                        pos++;
                    }
                    while (kind != 0 ? (text.flags(pos, end) & kind) != 0 : isOther(text.flags(pos, end))) {
                        pos++;
                    }
                    out.add(pos - from);
                    continue;
                }
                int ws = 0;
                while ((text.flags(pos + ws, end) & WHITESPACE) != 0) {
                    ws++;
                }
                if (ws > 1 && pos + ws < end) { // \s+(?!\S): leave the last one to start the next word
                    pos += ws - 1;
                } else if (ws > 0) {
                    pos += ws;
                } else {
                    pos++;
                }
                out.add(pos - from);
            }
        }
    };

    /** {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+} */
    static final PreTokenizer.Step LLAMA3 = (text, in, out) -> {
        int start = 0;
        for (int p = 0; p < in.size; p++) {
            int ini = start, end = start + in.a[p];
            start = end;
            int[] cps = text.cps;
            int pos = ini;
            while (pos < end) {
                int cp = cps[pos];
                int flags = text.flags(pos, end);
                int c = contraction(cps, pos, end, true);
                if (c > 0) {
                    out.add(c);
                    pos += c;
                    continue;
                }
                int from = pos;
                // [^\r\n\p{L}\p{N}]?\p{L}+
                if (!(cp == '\r' || cp == '\n' || (flags & NUMBER) != 0)
                        && ((flags & LETTER) != 0 || (text.flags(pos + 1, end) & LETTER) != 0)) {
                    pos++;
                    while ((text.flags(pos, end) & LETTER) != 0) {
                        pos++;
                    }
                    out.add(pos - from);
                    continue;
                }
                // \p{N}{1,3}
                if ((flags & NUMBER) != 0) {
                    while ((text.flags(pos, end) & NUMBER) != 0) {
                        pos++;
                        if (pos - from == 3) {
                            out.add(3);
                            from = pos;
                        }
                    }
                    if (pos > from) {
                        out.add(pos - from);
                    }
                    continue;
                }
                //  ?[^\s\p{L}\p{N}]+[\r\n]*
                int f2 = cp == ' ' ? text.flags(pos + 1, end) : flags;
                if (isOther(f2)) {
                    if (cp == ' ') {
                        pos++;
                    }
                    while (isOther(text.flags(pos, end))) {
                        pos++;
                    }
                    while (pos < end && (cps[pos] == '\r' || cps[pos] == '\n')) {
                        pos++;
                    }
                    out.add(pos - from);
                    continue;
                }
                int ws = 0, lastNewlineEnd = -1;
                while ((text.flags(pos + ws, end) & WHITESPACE) != 0) {
                    int w = cps[pos + ws];
                    if (w == '\r' || w == '\n') {
                        lastNewlineEnd = pos + ws + 1;
                    }
                    ws++;
                }
                if (lastNewlineEnd > 0) { // \s*[\r\n]+
                    pos = lastNewlineEnd;
                } else if (ws > 1 && pos + ws < end) { // \s+(?!\S)
                    pos += ws - 1;
                } else if (ws > 0) {
                    pos += ws;
                } else {
                    pos++;
                }
                out.add(pos - from);
            }
        }
    };

    /** [^\s\p{L}\p{N}] at a position inside the piece. */
    private static boolean isOther(int flags) {
        return flags != 0 && (flags & (WHITESPACE | LETTER | NUMBER)) == 0;
    }

    /** The length of 's 't 're 've 'm 'll 'd at {@code pos} (either case when {@code anyCase}), or 0. */
    private static int contraction(int[] cps, int pos, int end, boolean anyCase) {
        if (cps[pos] != '\'' || pos + 1 >= end) {
            return 0;
        }
        int a = anyCase ? Character.toLowerCase(cps[pos + 1]) : cps[pos + 1];
        if (a == 's' || a == 't' || a == 'm' || a == 'd') {
            return 2;
        }
        if (pos + 2 < end) {
            int b = anyCase ? Character.toLowerCase(cps[pos + 2]) : cps[pos + 2];
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
                return 3;
            }
        }
        return 0;
    }
}
