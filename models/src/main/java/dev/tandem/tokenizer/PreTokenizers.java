package dev.tandem.tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pre-tokenizers of byte-level BPE vocabularies, by their {@code tokenizer.ggml.pre} name, as llama.cpp defines
 * them ({@code llama_vocab::impl::load} maps names to types, {@code llm_tokenizer_bpe} gives each type its patterns).
 * Patterns are written in llama.cpp's (ECMAScript) syntax; {@link RegexSplit} translates them.
 */
final class PreTokenizers {
    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** CJK ideographs, U+0800..U+4E00 and Hangul — deepseek's "[一-龥ࠀ-一가-퟿]+". */
    private static final String DEEPSEEK_CJK = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+";
    /** deepseek-llm's cased-letter class (Latin, Greek, Cyrillic, Armenian, Georgian, Cherokee, …, Adlam). */
    private static final String DEEPSEEK_LETTERS = "\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf"
            + "\u01c4-\u0293\u0295-\u02af\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1"
            + "\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba"
            + "\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d"
            + "\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc"
            + "\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115"
            + "\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e"
            + "\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f"
            + "\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a"
            + "\uD801\uDC00-\uD801\uDC4F\uD801\uDCB0-\uD801\uDCD3\uD801\uDCD8-\uD801\uDCFB\uD803\uDC80-\uD803\uDCB2"
            + "\uD803\uDCC0-\uD803\uDCF2\uD806\uDCA0-\uD806\uDCDF\uD83A\uDD00-\uD83A\uDD43]+";
    /** ASCII punctuation and symbols, their full-width forms, quotation marks U+2018..U+201F, U+3000..U+3002. */
    private static final String DEEPSEEK_PUNCT = "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+";

    private static final Map<String, PreTokenizer> BY_NAME = new LinkedHashMap<>();

    static {
        List<String> gpt2 = List.of(GPT2);
        List<String> llama3 = List.of(LLAMA3);
        register(List.of("default"), List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"), false, false);
        register(List.of("llama-bpe", "llama3", "llama-v3", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"),
                llama3, true, true);
        register(List.of("dbrx", "smaug-bpe"), llama3, false, false);
        register(List.of("gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
                "modern-bert", "exaone4", "mpt", "olmo", "jais", "trillion", "granite-docling"), gpt2, false, false);
        register(List.of("qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open"),
                List.of(QWEN2), false, false);
        register(List.of("starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"),
                List.of("\\p{N}", GPT2), false, false);
        register(List.of("falcon"), List.of("[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"), false, false);
        register(List.of("deepseek-llm"),
                List.of("[\r\n]", DEEPSEEK_LETTERS, DEEPSEEK_PUNCT, "\\s+$", DEEPSEEK_CJK, "\\p{N}+"), false, false);
        register(List.of("deepseek-coder"), List.of("[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", DEEPSEEK_CJK, "\\p{N}"), false, false);
    }

    private PreTokenizers() {}

    private static void register(List<String> names, List<String> patterns, boolean addsBos, boolean ignoreMerges) {
        List<PreTokenizer.Step> steps = new ArrayList<>();
        for (String p : patterns) {
            steps.add(p.equals(GPT2) ? CustomSplits.GPT2 : p.equals(LLAMA3) ? CustomSplits.LLAMA3 : new RegexSplit(p));
        }
        for (String n : names) {
            BY_NAME.put(n, new PreTokenizer(n, List.copyOf(steps), addsBos, ignoreMerges));
        }
    }

    /** The pre-tokenizer named {@code name}, or null when tandem does not know it. */
    static PreTokenizer byName(String name) {
        return BY_NAME.get(name);
    }

    /** Every name {@link #byName} knows, comma-separated, for messages. */
    static String supported() {
        return String.join(", ", BY_NAME.keySet());
    }
}
