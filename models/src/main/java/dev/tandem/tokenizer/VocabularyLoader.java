package dev.tandem.tokenizer;

import dev.tandem.gguf.GgufArray;
import dev.tandem.gguf.GgufFile;
import dev.tandem.gguf.GgufValueType;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Builds a {@link Vocabulary} from a GGUF file's {@code tokenizer.ggml.*} metadata the way llama.cpp's
 * {@code llama_vocab::impl::load} does: ids from metadata over per-model defaults, the auto-detection
 * of end-of-turn / FIM tokens by their text (they become CONTROL), the end-of-generation set, the
 * special-token list sorted longest first, and the rendered piece of every token.
 * Where llama.cpp walks a hash map and takes the first text that matches, we take the lowest id.
 */
final class VocabularyLoader {
    /** Per-model defaults, before the file's metadata overrides them. */
    record Defaults(int bos, int eos, int unk, boolean addBos, boolean addEos, boolean addSpacePrefix, boolean byteLevel) {}

    static final Defaults SPM = new Defaults(1, 2, 0, true, false, true, false);

    /** llama.cpp's BPE defaults: BOS = EOS = 11, no UNK, no space prefix; BOS added only for some pre-tokenizers (Llama 3). */
    static Defaults bpe(boolean addBos) {
        return new Defaults(11, 11, -1, addBos, false, false, true);
    }

    private static final String K = "tokenizer.ggml.";
    private static final List<String> EOT_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>");
    private static final List<String> EOM_TEXTS = List.of("<|eom_id|>");
    private static final List<String> FIM_PAD_TEXTS = List.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]");
    private static final List<String> FIM_REP_TEXTS = List.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>");
    private static final List<String> FIM_SEP_TEXTS = List.of("<|file_sep|>");
    private static final List<String> FIM_PRE_TEXTS = List.of(
            "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>");
    private static final List<String> FIM_SUF_TEXTS = List.of(
            "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>");
    private static final List<String> FIM_MID_TEXTS = List.of(
            "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>");
    private static final List<String> EOG_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
            "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
            "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[");
    private static final List<String> ALWAYS_RENDERED = List.of("<|channel|>", "<|message|>", "<|start|>", "<|constrain|>");

    private final GgufFile f;
    private final String file;

    private VocabularyLoader(GgufFile f) {
        this.f = f;
        this.file = String.valueOf(f.path());
    }

    static Vocabulary load(GgufFile f, Defaults d) {
        return new VocabularyLoader(f).load(d);
    }

    private Vocabulary load(Defaults d) {
        if (!f.has(K + "tokens")) {
            throw new TokenizerException(file + ": missing metadata " + K + "tokens (the file has no vocabulary)");
        }
        String[] words = stringArray(K + "tokens");
        int n = words.length;
        if (n == 0) {
            throw new TokenizerException(file + ": " + K + "tokens is empty");
        }
        byte[][] texts = new byte[n][];
        for (int i = 0; i < n; i++) {
            String w = words[i].isEmpty() ? "[EMPTY_" + i + "]" : words[i]; // as llama.cpp does
            texts[i] = w.getBytes(StandardCharsets.UTF_8);
        }
        float[] scores = scores(n);
        int[] attrs = attrs(n);
        TokenTable table = new TokenTable(texts, file);

        int bos = specialId("bos_token_id", d.bos(), n);
        int eos = specialId("eos_token_id", d.eos(), n);
        int eot = specialId("eot_token_id", -1, n);
        int eom = specialId("eom_token_id", -1, n);
        int unk = specialId("unknown_token_id", d.unk(), n);
        int pad = specialId("padding_token_id", -1, n);
        int fimPad = specialId("fim_pad_token_id", -1, n);
        int fimRep = specialId("fim_rep_token_id", -1, n);
        int fimSep = specialId("fim_sep_token_id", -1, n);
        boolean addBos = f.getBoolean(K + "add_bos_token", d.addBos());
        boolean addEos = f.getBoolean(K + "add_eos_token", d.addEos());
        boolean addSpacePrefix = f.getBoolean(K + "add_space_prefix", d.addSpacePrefix());
        if (addBos && bos < 0) {
            throw new TokenizerException(file + ": " + K + "add_bos_token is true, but " + K + "bos_token_id is not set");
        }
        if (addEos && eos < 0) {
            throw new TokenizerException(file + ": " + K + "add_eos_token is true, but " + K + "eos_token_id is not set");
        }

        // Tokens found by their text when the metadata does not name them; each becomes CONTROL.
        if (eot < 0) {
            eot = findFirst(table, EOT_TEXTS, attrs);
        }
        if (eom < 0) {
            eom = findFirst(table, EOM_TEXTS, attrs);
        }
        if (fimPad < 0) {
            fimPad = findFirst(table, FIM_PAD_TEXTS, attrs);
        }
        if (fimRep < 0) {
            fimRep = findFirst(table, FIM_REP_TEXTS, attrs);
        }
        if (fimSep < 0) {
            fimSep = findFirst(table, FIM_SEP_TEXTS, attrs);
        }
        // FIM prefix / suffix / middle do not end generation, but when found by text they become CONTROL too.
        if (specialId("prefix_token_id", specialId("fim_pre_token_id", -1, n), n) < 0) {
            findFirst(table, FIM_PRE_TEXTS, attrs);
        }
        if (specialId("suffix_token_id", specialId("fim_suf_token_id", -1, n), n) < 0) {
            findFirst(table, FIM_SUF_TEXTS, attrs);
        }
        if (specialId("middle_token_id", specialId("fim_mid_token_id", -1, n), n) < 0) {
            findFirst(table, FIM_MID_TEXTS, attrs);
        }

        boolean[] eog = new boolean[n];
        for (int id : new int[] {fimPad, fimRep, fimSep, eos, eot, eom}) {
            if (id >= 0) {
                eog[id] = true;
            }
        }
        for (String t : EOG_TEXTS) {
            int id = find(table, t);
            if (id >= 0) {
                eog[id] = true;
                attrs[id] |= TokenAttr.CONTROL;
            }
        }
        for (String t : ALWAYS_RENDERED) { // gpt-oss: shown in the output
            int id = find(table, t);
            if (id >= 0) {
                attrs[id] = TokenAttr.USER_DEFINED;
            }
        }
        // o200k_harmony / solar-open: "<|end|>" separates messages there, it does not end generation.
        boolean hasReturn = eogText(table, eog, "<|return|>"), hasFlush = eogText(table, eog, "<|flush|>");
        boolean hasCall = eogText(table, eog, "<|call|>") || eogText(table, eog, "<|calls|>");
        if (eogText(table, eog, "<|end|>") && hasCall && (hasReturn || hasFlush)) {
            int end = find(table, "<|end|>");
            eog[end] = false;
            attrs[end] = TokenAttr.USER_DEFINED;
        }
        // gemma4 / paddleocr: "</s>" is ordinary text there.
        if (eogText(table, eog, "<|tool_response>") && eogText(table, eog, "</s>")) {
            int s = find(table, "</s>");
            eog[s] = false;
            attrs[s] = TokenAttr.NORMAL;
        }

        int[] specials = specialTokens(texts, attrs);
        byte[][] pieces = new byte[n][];
        for (int id = 0; id < n; id++) {
            pieces[id] = renderPiece(texts[id], attrs[id], d.byteLevel());
        }
        applyModelAttrs(table, specials, attrs);

        int[] byteTokens = new int[256];
        for (int b = 0; b < 256; b++) {
            int id = table.find(String.format("<0x%02X>", b).getBytes(StandardCharsets.US_ASCII));
            byteTokens[b] = id >= 0 ? id : table.find(new byte[] {(byte) b});
        }
        return new Vocabulary(file, texts, scores, attrs, table, pieces, eog, specials, byteTokens,
                bos, eos, eot, eom, unk, pad, addBos, addEos, addSpacePrefix);
    }

    /** Phi-3 strips whitespace after its special tokens (llama.cpp sets this by the model's general.name). */
    private void applyModelAttrs(TokenTable table, int[] specials, int[] attrs) {
        String name = f.has("general.name") && f.metadata().get("general.name") instanceof String s ? s.toLowerCase(Locale.ROOT) : "";
        if (name.contains("phi-3") || name.contains("phi3")) {
            for (int id : specials) {
                attrs[id] |= TokenAttr.RSTRIP;
            }
            setAttr(table, attrs, "</s>", TokenAttr.RSTRIP, true);
            for (String t : List.of("<unk>", "<s>", "<|endoftext|>")) {
                setAttr(table, attrs, t, TokenAttr.RSTRIP, false);
            }
        }
    }

    private static void setAttr(TokenTable table, int[] attrs, String text, int bit, boolean on) {
        int id = find(table, text);
        if (id >= 0) {
            attrs[id] = on ? attrs[id] | bit : attrs[id] & ~bit;
        }
    }

    /** CONTROL, USER_DEFINED and UNKNOWN tokens, longest text first (ties by id, for a fixed order). */
    private static int[] specialTokens(byte[][] texts, int[] attrs) {
        List<Integer> ids = new ArrayList<>();
        for (int id = 0; id < texts.length; id++) {
            if ((attrs[id] & (TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN)) != 0) {
                ids.add(id);
            }
        }
        ids.sort(Comparator.comparingInt((Integer id) -> -texts[id].length).thenComparingInt(id -> id));
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** What llama.cpp's token_to_piece gives with special = true (and no lstrip); byte-level BPE maps characters to bytes. */
    private static byte[] renderPiece(byte[] text, int attr, boolean byteLevel) {
        if ((attr & (TokenAttr.UNKNOWN | TokenAttr.CONTROL | TokenAttr.USER_DEFINED)) != 0) {
            return text;
        }
        if ((attr & TokenAttr.NORMAL) != 0) {
            return byteLevel ? ByteUnicode.decode(text) : SpaceEscape.unescape(text);
        }
        if ((attr & TokenAttr.BYTE) != 0) {
            return new byte[] {(byte) parseByteToken(text)};
        }
        return Vocabulary.EMPTY;
    }

    /** "<0xNN>" → NN; like strtol on the two characters after "<0x", so bad digits give what they give there. */
    private static int parseByteToken(byte[] text) {
        int v = 0;
        for (int i = 3; i < Math.min(5, text.length); i++) {
            int digit = Character.digit(text[i], 16);
            if (digit < 0) {
                break;
            }
            v = v * 16 + digit;
        }
        return v;
    }

    private static int findFirst(TokenTable table, List<String> candidates, int[] attrs) {
        int best = -1;
        for (String t : candidates) {
            int id = find(table, t);
            if (id >= 0 && (best < 0 || id < best)) {
                best = id;
            }
        }
        if (best >= 0) {
            attrs[best] |= TokenAttr.CONTROL;
        }
        return best;
    }

    private static boolean eogText(TokenTable table, boolean[] eog, String text) {
        int id = find(table, text);
        return id >= 0 && eog[id];
    }

    private static int find(TokenTable table, String text) {
        return table.find(text.getBytes(StandardCharsets.UTF_8));
    }

    private int specialId(String key, int fallback, int n) {
        int id = fallback >= n ? -1 : fallback; // a default out of range is disabled
        if (!f.has(K + key)) {
            return id;
        }
        Object v = f.metadata().get(K + key);
        if (!(v instanceof Integer) && !(v instanceof Long)) {
            throw new TokenizerException(file + ": metadata " + K + key + " should be an integer, not " + v.getClass().getSimpleName());
        }
        long value = ((Number) v).longValue();
        return value >= 0 && value < n ? (int) value : id; // a bad id keeps the default, as in llama.cpp
    }

    private String[] stringArray(String key) {
        if (!(f.metadata().get(key) instanceof GgufArray a) || a.elementType() != GgufValueType.STRING) {
            throw new TokenizerException(file + ": metadata " + key + " should be an array of strings");
        }
        return a.strings();
    }

    private float[] scores(int n) {
        String key = K + "scores";
        if (!f.has(key)) {
            return new float[n];
        }
        if (!(f.metadata().get(key) instanceof GgufArray a)
                || (a.elementType() != GgufValueType.FLOAT32 && a.elementType() != GgufValueType.INT32)) {
            throw new TokenizerException(file + ": metadata " + key + " should be an array of float32 or int32");
        }
        if (a.length() < n) {
            throw new TokenizerException(file + ": metadata " + key + " has " + a.length() + " entries for " + n + " tokens");
        }
        if (a.elementType() == GgufValueType.FLOAT32) {
            return Arrays.copyOf(a.floats(), n);
        }
        int[] ints = a.ints();
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = ints[i];
        }
        return s;
    }

    private int[] attrs(int n) {
        String key = K + "token_type";
        int[] attrs = new int[n];
        if (!f.has(key)) {
            Arrays.fill(attrs, TokenAttr.NORMAL);
            return attrs;
        }
        if (!(f.metadata().get(key) instanceof GgufArray a) || a.elementType() != GgufValueType.INT32) {
            throw new TokenizerException(file + ": metadata " + key + " should be an array of int32");
        }
        if (a.length() < n) {
            throw new TokenizerException(file + ": metadata " + key + " has " + a.length() + " entries for " + n + " tokens");
        }
        int[] types = a.ints();
        for (int i = 0; i < n; i++) {
            attrs[i] = TokenAttr.fromType(types[i]);
        }
        return attrs;
    }
}
