package dev.tandem.tokenizer;

/**
 * jinja2's {@code lstrip_blocks}, applied to the source before jinjava parses it: the spaces and tabs before a block
 * tag ({@code {%}) or comment ({@code {#}) are removed when nothing else stands between the start of its line and
 * the tag. jinjava's own option strips them even after other text on the line ({@code a {% if %}} loses its
 * space), so it stays off. {@code {%+} keeps the whitespace (and loses the {@code +}, which jinjava does not
 * know); the inside of tags, expressions, comments and {@code {% raw %}} blocks is copied untouched.
 */
final class JinjaLstrip {
    private JinjaLstrip() {
    }

    static String apply(String src) {
        StringBuilder out = new StringBuilder(src.length());
        int i = 0;
        int n = src.length();
        boolean lineStart = true; // only spaces/tabs since the last newline (or the start) in the current text
        int lineStartLength = 0;  // out.length() where that whitespace run began
        while (i < n) {
            char c = src.charAt(i);
            if (c == '{' && i + 1 < n && (src.charAt(i + 1) == '%' || src.charAt(i + 1) == '#' || src.charAt(i + 1) == '{')) {
                char kind = src.charAt(i + 1);
                boolean keep = i + 2 < n && src.charAt(i + 2) == '+';
                if (kind != '{' && lineStart && !keep) {
                    out.setLength(lineStartLength);
                }
                int end = endOf(src, i, kind);
                if (keep) {
                    out.append(src, i, i + 2).append(src, i + 3, end);
                } else {
                    out.append(src, i, end);
                }
                if (kind == '%' && isRawStart(src, i, end)) {
                    int close = rawEnd(src, end);
                    out.append(src, end, close);
                    end = close;
                }
                i = end;
                lineStart = false;
                continue;
            }
            out.append(c);
            if (c == '\n') {
                lineStart = true;
                lineStartLength = out.length();
            } else if (c != ' ' && c != '\t') {
                lineStart = false;
            }
            i++;
        }
        return out.toString();
    }

    /** The index just past the tag, expression or comment opening at {@code start}; the end of the source if unclosed. */
    private static int endOf(String src, int start, char kind) {
        char close = kind == '{' ? '}' : kind;
        int n = src.length();
        int i = start + 2;
        char quote = 0;
        while (i < n) {
            char c = src.charAt(i);
            if (kind != '#' && quote != 0) {
                if (c == '\\') {
                    i += 2;
                    continue;
                }
                if (c == quote) {
                    quote = 0;
                }
            } else if (kind != '#' && (c == '\'' || c == '"')) {
                quote = c;
            } else if (c == close && i + 1 < n && src.charAt(i + 1) == '}') {
                return i + 2;
            }
            i++;
        }
        return n;
    }

    private static boolean isRawStart(String src, int start, int end) {
        String body = src.substring(start + 2, end - 2).replace("-", "").replace("+", "").trim();
        return body.equals("raw");
    }

    /** The index of the {@code {% endraw %}} tag after a raw block's content (left for the parser to read). */
    private static int rawEnd(String src, int from) {
        int i = from;
        while (true) {
            int open = src.indexOf("{%", i);
            if (open < 0) {
                return src.length();
            }
            int end = endOf(src, open, '%');
            String body = src.substring(open + 2, Math.max(open + 2, end - 2)).replace("-", "").replace("+", "").trim();
            if (body.equals("endraw")) {
                return open;
            }
            i = open + 2;
        }
    }
}
