package dev.tandem.tokenizer;

import dev.tandem.gguf.GgufFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;

/**
 * Where a model's chat template comes from, in this order:
 * <ol>
 *   <li>an override: a built-in name ({@code chatml}, {@code llama2}, {@code llama3}, {@code mistral}, {@code phi3},
 *       {@code zephyr}) or the path of a {@code .jinja} file;</li>
 *   <li>the file's own {@code tokenizer.chat_template};</li>
 *   <li>a built-in chosen from the vocabulary's special tokens ({@link #detect});</li>
 *   <li>{@code chatml} when nothing matches — as llama.cpp does — so a model always has a template. The choice is
 *       visible in {@link ChatTemplate#name()} for the logs.</li>
 * </ol>
 * BOS/EOS texts come from the tokenizer ({@code tokenText(bos())}), or are left undefined when it has none.
 */
public final class ChatTemplates {
    /** The metadata key holding a model's own Jinja template. */
    public static final String GGUF_KEY = "tokenizer.chat_template";

    private ChatTemplates() {
    }

    /**
     * The template for a model file.
     *
     * @param override null, a built-in name, or a path to a Jinja file
     * @throws ChatTemplateException when the override names no built-in and no readable file, or a template does
     *                               not parse
     */
    public static ChatTemplate fromGguf(GgufFile file, Tokenizer tokenizer, String override) {
        return fromGguf(file, tokenizer, override, tokenText(tokenizer, tokenizer.bos()), tokenText(tokenizer, tokenizer.eos()));
    }

    /** {@link #fromGguf(GgufFile, Tokenizer, String)} with the BOS/EOS texts given (null: undefined in the template). */
    public static ChatTemplate fromGguf(GgufFile file, Tokenizer tokenizer, String override, String bos, String eos) {
        if (override != null && !override.isBlank()) {
            return fromOverride(override, bos, eos);
        }
        String own = file.has(GGUF_KEY) ? file.getString(GGUF_KEY) : null;
        if (own != null && !own.isBlank()) {
            return fromSource(own, bos, eos, "gguf");
        }
        return builtin(detect(tokenizer), bos, eos);
    }

    /** A built-in template by name, or a Jinja file by path. */
    public static ChatTemplate fromOverride(String override, String bos, String eos) {
        if (BuiltinChatTemplates.SOURCES.containsKey(override)) {
            return builtin(override, bos, eos);
        }
        Path path = Path.of(override);
        if (!Files.isRegularFile(path)) {
            throw new ChatTemplateException("chat template '" + override + "' is neither a built-in ("
                    + String.join(", ", BuiltinChatTemplates.NAMES) + ") nor a readable file", false);
        }
        try {
            return fromSource(Files.readString(path), bos, eos, path.getFileName().toString());
        } catch (IOException e) {
            throw new ChatTemplateException("cannot read chat template " + path + ": " + e.getMessage(), e);
        }
    }

    /** A built-in template; {@code bos}/{@code eos} may be null (left undefined). */
    public static ChatTemplate builtin(String name, String bos, String eos) {
        String source = BuiltinChatTemplates.SOURCES.get(name);
        if (source == null) {
            throw new ChatTemplateException("unknown chat template '" + name + "'; built-ins: "
                    + String.join(", ", BuiltinChatTemplates.NAMES), false);
        }
        return new JinjaChatTemplate(source, bos, eos, name, Clock.systemDefaultZone());
    }

    /** A template from Jinja source. */
    public static ChatTemplate fromSource(String jinja, String bos, String eos, String name) {
        return new JinjaChatTemplate(jinja, bos, eos, name, Clock.systemDefaultZone());
    }

    /**
     * The built-in that fits a vocabulary, judged by the special tokens each format needs:
     * {@code <|im_start|>} → chatml; {@code <|start_header_id|>} or {@code <|eot_id|>} → llama3;
     * {@code <|user|>} with {@code <|end|>} → phi3, without → zephyr; {@code [INST]} → mistral;
     * otherwise chatml (llama.cpp's fallback). Llama 2 has no special token of its own, so it is only chosen by
     * name.
     */
    public static String detect(Tokenizer tokenizer) {
        if (has(tokenizer, "<|im_start|>")) {
            return "chatml";
        }
        if (has(tokenizer, "<|start_header_id|>") || has(tokenizer, "<|eot_id|>")) {
            return "llama3";
        }
        if (has(tokenizer, "<|user|>")) {
            return has(tokenizer, "<|end|>") ? "phi3" : "zephyr";
        }
        if (has(tokenizer, "[INST]")) {
            return "mistral";
        }
        return "chatml";
    }

    private static boolean has(Tokenizer tokenizer, String text) {
        return tokenizer.tokenId(text) >= 0;
    }

    private static String tokenText(Tokenizer tokenizer, int id) {
        return id < 0 || id >= tokenizer.vocabSize() ? null : tokenizer.tokenText(id);
    }
}
