package dev.tandem.tokenizer;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pre-tokenizer step run through a regex engine, the way llama.cpp runs the patterns it has no custom scanner for.
 * A pattern using Unicode categories ({@code \p{L}}, {@code \p{N}}, {@code \p{P}}, {@code \p{M}}, {@code \p{S}})
 * runs on the {@linkplain PreTokenizer.Text#collapsed() collapsed} text, each category rewritten to its stand-in
 * character plus its ASCII members (so {@code \p{S}} there does not include '~', as in llama.cpp); any other pattern
 * runs on the text itself. Each piece is searched on its own (opaque region bounds, {@code $} is the piece's end).
 */
final class RegexSplit implements PreTokenizer.Step {
    /** Category → stand-in char and its ASCII members, as a character-class body. */
    private static final Map<String, String> CATEGORIES = Map.of(
            "\\p{N}", "\u00D10-9",
            "\\p{L}", "\u00D2A-Za-z",
            "\\p{P}", "\u00D3!-#%-*,-/:-;?-@\\[-\\]_\\{\\}",
            "\\p{M}", "\u00D4",
            "\\p{S}", "\u00D5\\$\\+<->^`\\|");
    private static final List<String> CATEGORY_NAMES = List.of("\\p{N}", "\\p{L}", "\\p{P}", "\\p{M}", "\\p{S}",
            "\\p{Lu}", "\\p{Ll}", "\\p{Lt}", "\\p{Lm}", "\\p{Lo}");

    private final String source;     // the pattern as llama.cpp writes it
    private final Pattern pattern;
    private final boolean collapsed; // run on the collapsed text

    RegexSplit(String source) {
        this.source = source;
        this.collapsed = CATEGORY_NAMES.stream().anyMatch(source::contains);
        if (collapsed && source.codePoints().anyMatch(c -> c >= 128)) {
            throw new IllegalArgumentException("pattern mixes Unicode categories and non-ASCII characters: " + source);
        }
        this.pattern = Pattern.compile(translate(source, collapsed));
    }

    /** llama.cpp's (ECMAScript) pattern in Java syntax: categories rewritten when collapsed, {@code $} as {@code \z}. */
    static String translate(String re, boolean collapsed) {
        StringBuilder sb = new StringBuilder(re.length() + 32);
        boolean inside = false;
        for (int i = 0; i < re.length(); i++) {
            char c = re.charAt(i);
            if (c == '\\' && i + 1 < re.length()) {
                if (collapsed && re.charAt(i + 1) == 'p' && i + 2 < re.length() && re.charAt(i + 2) == '{') {
                    int close = re.indexOf('}', i + 3);
                    String name = close < 0 ? null : re.substring(i, close + 1);
                    if (name != null && CATEGORY_NAMES.contains(name)) {
                        String body = CATEGORIES.get(name.length() > 5 ? "\\p{L}" : name); // \p{Lu} etc. count as letters
                        sb.append(inside ? body : "[" + body + "]");
                        i = close;
                        continue;
                    }
                }
                sb.append(c).append(re.charAt(i + 1));
                i++;
                continue;
            }
            if (c == '[') {
                inside = true;
            } else if (c == ']') {
                inside = false;
            } else if (c == '$' && !inside) {
                sb.append("\\z");
                continue;
            }
            sb.append(c);
        }
        return sb.toString();
    }

    @Override
    public void apply(PreTokenizer.Text text, PreTokenizer.Lengths in, PreTokenizer.Lengths out) {
        String s = collapsed ? text.collapsed() : text.wide();
        Matcher m = pattern.matcher(s);
        int start = 0;
        for (int p = 0; p < in.size; p++) {
            int end = start + in.a[p];
            int from = toChar(text, start), to = toChar(text, end);
            m.region(from, to);
            int prev = from;
            while (m.find()) {
                if (m.end() == m.start()) {
                    continue; // no pattern we run matches empty; llama.cpp would add an empty word, which yields no token
                }
                if (m.start() > prev) {
                    out.add(toCp(text, m.start()) - toCp(text, prev));
                }
                out.add(toCp(text, m.end()) - toCp(text, m.start()));
                prev = m.end();
            }
            if (prev < to) {
                out.add(toCp(text, to) - toCp(text, prev));
            }
            start = end;
        }
    }

    private int toChar(PreTokenizer.Text text, int cp) {
        return collapsed ? cp : text.wideIndex(cp);
    }

    private int toCp(PreTokenizer.Text text, int ch) {
        return collapsed ? ch : text.cpIndex(ch);
    }

    @Override
    public String toString() {
        return source;
    }
}
