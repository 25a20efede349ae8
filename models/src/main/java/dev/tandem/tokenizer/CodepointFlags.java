package dev.tandem.tokenizer;

/**
 * The per-code-point flags llama.cpp's pre-tokenizers test ({@code unicode_cpt_flags}): one general-category
 * bit (from the Unicode data, via {@link Character#getType}) plus a whitespace bit for the 25 White_Space code
 * points. Unassigned code points are UNDEFINED, which is non-zero: only positions outside the text have no flags.
 */
final class CodepointFlags {
    static final int UNDEFINED = 1;
    static final int NUMBER = 1 << 1;      // \p{N}
    static final int LETTER = 1 << 2;      // \p{L}
    static final int SEPARATOR = 1 << 3;   // \p{Z}
    static final int MARK = 1 << 4;        // \p{M}
    static final int PUNCTUATION = 1 << 5; // \p{P}
    static final int SYMBOL = 1 << 6;      // \p{S}
    static final int CONTROL = 1 << 7;     // \p{C}
    static final int CATEGORIES = 0xFF;
    static final int WHITESPACE = 1 << 8;

    private static final short[] BMP = new short[0x10000]; // [65536] flags of each BMP code point

    static {
        for (int c = 0; c < BMP.length; c++) {
            BMP[c] = (short) compute(c);
        }
    }

    private CodepointFlags() {}

    static int of(int cp) {
        return cp < 0x10000 ? BMP[cp] : compute(cp);
    }

    static boolean isWhitespace(int cp) {
        return (of(cp) & WHITESPACE) != 0;
    }

    private static int compute(int cp) {
        if (cp < 0 || cp > Character.MAX_CODE_POINT) {
            return 0;
        }
        return category(cp) | (whitespace(cp) ? WHITESPACE : 0);
    }

    private static int category(int cp) {
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> MARK;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SEPARATOR;
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE -> CONTROL;
            case Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION,
                 Character.CONNECTOR_PUNCTUATION, Character.OTHER_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                 Character.FINAL_QUOTE_PUNCTUATION -> PUNCTUATION;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL, Character.OTHER_SYMBOL -> SYMBOL;
            default -> UNDEFINED; // UNASSIGNED
        };
    }

    /** llama.cpp's whitespace set: U+0009..U+000D, U+0020, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000. */
    private static boolean whitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }
}
