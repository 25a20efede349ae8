package dev.tandem.model;

import dev.tandem.gguf.GgufArray;
import dev.tandem.gguf.GgufException;
import dev.tandem.gguf.GgufFile;
import dev.tandem.gguf.GgufValueType;
import dev.tandem.gguf.GgufWriter;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The vocabulary of a made model: every {@code tokenizer.*} key of a vocabulary GGUF, or a small
 * built-in SentencePiece-style byte-fallback vocabulary; either padded with {@code [PAD{id}]}
 * user-defined tokens up to the requested size.
 */
final class ModelMakerVocab {
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, BYTE = 6;
    /** {@code <unk>}, {@code <s>}, {@code </s>} and the 256 byte tokens: the least the built-in vocabulary keeps. */
    static final int BUILT_IN_MINIMUM = 3 + 256;

    private static final String WORD_START = "\u2581"; // ▁, SentencePiece's word-start marker

    /** Frequent English words; each enters with all its prefixes, so merges can build it up. */
    private static final String WORDS = """
            the of and to in is was he for it with as his on be at by had are but from or have an they which one you
            were her all she there would their we him been has when who will more no if out so said what up its about
            into than them can only other new some could time these two may then do first any my now such like our over
            man me even most made after also did many before must through back years where much your way well down
            should because each just those people how too little state good very make world still own see men work long
            get here between both life being under never day same another know while last might us great old year off
            come since against go came right used take three small large place again home house once upon story said
            tell told think thought look looked want wanted find found give gave hand hands head eyes face night water
            light love school city name number word words part sound table data value function return string list code
            file line print true false null class public private static void int float double char type value model
            token text hello world today thing things every something nothing always around without small important
            different following system program question during however began began set three four five six seven eight
            nine ten hundred thousand king queen princess dragon forest river mountain village little girl boy mother
            father friend friends happy sad running walked asked called named lived
            The Once It He She In This We You What There When They But And A I""";

    /** Common word pieces inside and at the end of words. */
    private static final String SUBWORDS = "th he in er an re on at en nd st or es ing ed ly tion ent ers ion al ar ou it is le "
            + "ve ll se ne me de ce ch sh ay ow ere ght ment ness able ful est ies";

    private ModelMakerVocab() {}

    /** Adds the vocabulary keys to {@code w}; returns the vocabulary size. */
    static int write(GgufWriter w, Path vocabGguf, int vocabSize) {
        return vocabGguf == null ? writeBuiltIn(w, vocabSize) : copy(w, vocabGguf, vocabSize);
    }

    /** The built-in pieces, in id order (before any padding). */
    static List<String> builtInPieces() {
        Set<String> pieces = new LinkedHashSet<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) {
            pieces.add(String.format("<0x%02X>", b));
        }
        pieces.add(WORD_START);
        for (char c = 'a'; c <= 'z'; c++) {
            pieces.add(String.valueOf(c));
        }
        for (char c = 'A'; c <= 'Z'; c++) {
            pieces.add(String.valueOf(c));
        }
        for (char c = '0'; c <= '9'; c++) {
            pieces.add(String.valueOf(c));
        }
        for (char c : ".,!?'\"-:;()".toCharArray()) {
            pieces.add(String.valueOf(c));
        }
        for (char c = 'a'; c <= 'z'; c++) {
            pieces.add(WORD_START + c);
        }
        for (char c = 'A'; c <= 'Z'; c++) {
            pieces.add(WORD_START + c);
        }
        for (String s : SUBWORDS.split("\\s+")) {
            for (int k = 2; k <= s.length(); k++) {
                pieces.add(s.substring(0, k));
            }
        }
        for (String word : WORDS.strip().split("\\s+")) {
            String piece = WORD_START + word;
            for (int k = 2; k <= piece.length(); k++) {
                pieces.add(piece.substring(0, k));
            }
        }
        return new ArrayList<>(pieces);
    }

    private static int writeBuiltIn(GgufWriter w, int vocabSize) {
        List<String> pieces = builtInPieces();
        int n = vocabSize == 0 ? pieces.size() : vocabSize;
        if (n < BUILT_IN_MINIMUM) {
            throw new IllegalArgumentException("vocabulary size " + n + " is too small for the built-in vocabulary (at least "
                    + BUILT_IN_MINIMUM + ": 3 special tokens and 256 byte tokens)");
        }
        String[] tokens = new String[n];
        float[] scores = new float[n];
        int[] types = new int[n];
        for (int id = 0; id < n; id++) {
            if (id < pieces.size()) {
                tokens[id] = pieces.get(id);
                types[id] = id == 0 ? UNKNOWN : id < 3 ? CONTROL : id < BUILT_IN_MINIMUM ? BYTE : NORMAL;
                // SentencePiece scores are log-probabilities: earlier (shorter, commoner) pieces score higher
                scores[id] = id < BUILT_IN_MINIMUM ? 0f : -(id - BUILT_IN_MINIMUM) / 10f;
            } else {
                tokens[id] = "[PAD" + id + "]";
                types[id] = USER_DEFINED;
            }
        }
        w.putString("tokenizer.ggml.model", "llama");
        w.putString("tokenizer.ggml.pre", "default");
        w.putArray("tokenizer.ggml.tokens", new GgufArray(GgufValueType.STRING, tokens));
        w.putArray("tokenizer.ggml.scores", new GgufArray(GgufValueType.FLOAT32, scores));
        w.putArray("tokenizer.ggml.token_type", new GgufArray(GgufValueType.INT32, types));
        w.putUint32("tokenizer.ggml.bos_token_id", 1);
        w.putUint32("tokenizer.ggml.eos_token_id", 2);
        w.putUint32("tokenizer.ggml.unknown_token_id", 0);
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putBool("tokenizer.ggml.add_eos_token", false);
        return n;
    }

    private static int copy(GgufWriter w, Path vocabGguf, int vocabSize) {
        try (GgufFile f = GgufFile.open(vocabGguf)) {
            if (!f.has("tokenizer.ggml.tokens")) {
                throw new GgufException(vocabGguf + ": has no tokenizer.ggml.tokens, not a vocabulary");
            }
            int have = f.getArray("tokenizer.ggml.tokens").length();
            int n = vocabSize == 0 ? have : vocabSize;
            if (n < have) {
                throw new IllegalArgumentException("vocabulary size " + n + " is smaller than the " + have + " tokens of " + vocabGguf);
            }
            for (String key : f.metadata().keySet()) {
                if (!key.startsWith("tokenizer.")) {
                    continue;
                }
                Object v = f.metadata().get(key);
                if (n > have && v instanceof GgufArray a && a.length() == have) {
                    v = pad(key, a, n);
                }
                w.put(key, f.typeOf(key), v);
            }
            return n;
        }
    }

    /** Extends a per-token array (tokens, scores, token types) to {@code n} entries. */
    private static GgufArray pad(String key, GgufArray a, int n) {
        int have = a.length();
        return switch (key) {
            case "tokenizer.ggml.tokens" -> {
                String[] t = Arrays.copyOf(a.strings(), n);
                for (int id = have; id < n; id++) {
                    t[id] = "[PAD" + id + "]";
                }
                yield new GgufArray(a.elementType(), t);
            }
            case "tokenizer.ggml.scores" -> new GgufArray(a.elementType(), Arrays.copyOf(a.floats(), n));
            case "tokenizer.ggml.token_type" -> {
                int[] t = Arrays.copyOf(a.ints(), n);
                Arrays.fill(t, have, n, USER_DEFINED);
                yield new GgufArray(a.elementType(), t);
            }
            default -> a; // e.g. merges: not per token
        };
    }
}
