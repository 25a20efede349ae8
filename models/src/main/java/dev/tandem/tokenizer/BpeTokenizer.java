package dev.tandem.tokenizer;

import dev.tandem.gguf.GgufArray;
import dev.tandem.gguf.GgufFile;
import dev.tandem.gguf.GgufValueType;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The byte-level BPE tokenizer ({@code tokenizer.ggml.model = "gpt2"}), as llama.cpp's BPE path in
 * {@code llama_vocab::impl::tokenize}: split out special tokens, cut each raw fragment into words with the
 * {@link PreTokenizer} {@code tokenizer.ggml.pre} names, map each word's UTF-8 bytes to GPT-2's byte characters
 * ({@link ByteUnicode}) and merge them by rank ({@link BpeMerger}). Decoding maps token characters back to bytes.
 * Immutable and thread-safe; merged words are cached (a word's tokens do not depend on its neighbours).
 */
final class BpeTokenizer extends VocabularyTokenizer {
    private static final int CACHE_LIMIT = 1 << 16;     // words
    private static final int CACHE_MAX_WORD = 64;       // chars; longer words are merged every time

    private final BpeMerges merges;
    private final PreTokenizer pre;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    BpeTokenizer(Vocabulary v, BpeMerges merges, PreTokenizer pre) {
        super(v);
        this.merges = merges;
        this.pre = pre;
    }

    /** Reads the vocabulary, merges and pre-tokenizer of a {@code gpt2} file. */
    static BpeTokenizer fromGguf(GgufFile f) {
        String file = String.valueOf(f.path());
        String preKey = "tokenizer.ggml.pre";
        String preName = "default"; // llama.cpp warns and uses the default when the file names none
        if (f.has(preKey)) {
            if (!(f.metadata().get(preKey) instanceof String s)) {
                throw new TokenizerException(file + ": metadata " + preKey + " should be a string");
            }
            preName = s;
        }
        PreTokenizer pre = PreTokenizers.byName(preName);
        if (pre == null) {
            throw new TokenizerException(file + ": unsupported pre-tokenizer " + preKey + " = \"" + preName
                    + "\"; tandem reads: " + PreTokenizers.supported());
        }
        String mergesKey = "tokenizer.ggml.merges";
        if (!f.has(mergesKey)) {
            throw new TokenizerException(file + ": missing metadata " + mergesKey + " (a gpt2 tokenizer needs its merges)");
        }
        if (!(f.metadata().get(mergesKey) instanceof GgufArray a) || a.elementType() != GgufValueType.STRING) {
            throw new TokenizerException(file + ": metadata " + mergesKey + " should be an array of strings");
        }
        Vocabulary v = VocabularyLoader.load(f, VocabularyLoader.bpe(pre.addsBos()));
        return new BpeTokenizer(v, new BpeMerges(a.strings(), file), pre);
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        IntList out = new IntList(bytes.length / 3 + 4);
        if (addSpecial && v.addBos) {
            out.add(v.bos);
        }
        BpeMerger merger = new BpeMerger(v, merges);
        for (SpecialTokenSplitter.Fragment frag : SpecialTokenSplitter.split(v, bytes, parseSpecial)) {
            if (frag.isToken()) {
                out.add(frag.token());
            } else {
                encodeRaw(new String(bytes, frag.off(), frag.len(), StandardCharsets.UTF_8), merger, out);
            }
        }
        if (addSpecial && v.addEos) {
            out.add(v.eos);
        }
        return out.toArray();
    }

    private void encodeRaw(String text, BpeMerger merger, IntList out) {
        int[] cps = text.codePoints().toArray();
        PreTokenizer.Lengths words = pre.split(cps);
        byte[] word = new byte[64];
        int at = 0;
        for (int w = 0; w < words.size; w++) {
            int n = words.a[w];
            String key = n <= CACHE_MAX_WORD ? new String(cps, at, n) : null;
            int[] cached = key == null ? null : cache.get(key);
            if (cached != null) {
                for (int id : cached) {
                    out.add(id);
                }
                at += n;
                continue;
            }
            if (word.length < n * 8) {
                word = new byte[n * 8]; // ≤ 4 UTF-8 bytes per code point, ≤ 2 bytes per encoded byte
            }
            int len = 0;
            for (int i = at; i < at + n; i++) {
                len = encodeCodePoint(cps[i], word, len);
            }
            at += n;
            if (key == null) {
                merger.encode(word, len, pre.ignoreMerges(), out);
                continue;
            }
            IntList ids = new IntList(4);
            merger.encode(word, len, pre.ignoreMerges(), ids);
            int[] arr = ids.toArray();
            if (cache.size() < CACHE_LIMIT) {
                cache.put(key, arr);
            }
            for (int id : arr) {
                out.add(id);
            }
        }
    }

    /** Writes code point {@code cp} as UTF-8, each byte as its byte-level character (UTF-8 again), at {@code pos}. */
    private static int encodeCodePoint(int cp, byte[] out, int pos) {
        if (cp < 0x80) {
            return ByteUnicode.encode((byte) cp, out, pos);
        }
        if (cp < 0x800) {
            pos = ByteUnicode.encode((byte) (0xC0 | (cp >> 6)), out, pos);
        } else if (cp < 0x10000) {
            pos = ByteUnicode.encode((byte) (0xE0 | (cp >> 12)), out, pos);
            pos = ByteUnicode.encode((byte) (0x80 | ((cp >> 6) & 0x3F)), out, pos);
        } else {
            pos = ByteUnicode.encode((byte) (0xF0 | (cp >> 18)), out, pos);
            pos = ByteUnicode.encode((byte) (0x80 | ((cp >> 12) & 0x3F)), out, pos);
            pos = ByteUnicode.encode((byte) (0x80 | ((cp >> 6) & 0x3F)), out, pos);
        }
        return ByteUnicode.encode((byte) (0x80 | (cp & 0x3F)), out, pos);
    }

    /** The pre-tokenizer's name ({@code tokenizer.ggml.pre}). */
    String preTokenizer() {
        return pre.name();
    }

    @Override
    public String toString() {
        return "byte-level BPE tokenizer (" + v.size() + " tokens, pre-tokenizer " + pre.name() + ") from " + v.file;
    }
}
