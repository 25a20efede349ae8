package dev.tandem.tokenizer;

import dev.tandem.gguf.GgufFile;
import dev.tandem.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where a model's template comes from: override, the file's own, a built-in chosen from special tokens, chatml. */
class ChatTemplateSelectTest {
    private static final List<ChatTemplate.Message> HI = List.of(new ChatTemplate.Message("user", "Hi"));

    /** A vocabulary of the given token texts; id 0 is BOS, id 1 EOS. Only what template selection reads. */
    private static Tokenizer vocab(String... texts) {
        return new Tokenizer() {
            public int[] encode(String text, boolean addSpecial, boolean parseSpecial) { throw new UnsupportedOperationException(); }
            public byte[] tokenBytes(int id) { throw new UnsupportedOperationException(); }
            public byte[] tokenBytes(int id, boolean special) { throw new UnsupportedOperationException(); }
            public String decode(int[] ids) { throw new UnsupportedOperationException(); }
            public boolean stripsLeadingSpace() { return false; }
            public int vocabSize() { return texts.length; }
            public int bos() { return 0; }
            public int eos() { return 1; }
            public boolean addsBos() { return true; }
            public boolean addsEos() { return false; }
            public boolean isEndOfGeneration(int id) { return id == 1; }
            public String tokenText(int id) { return texts[id]; }
            public int tokenId(String text) { return List.of(texts).indexOf(text); }
        };
    }

    @Test
    void detectsTheFormatFromSpecialTokens() {
        assertEquals("chatml", ChatTemplates.detect(vocab("<|endoftext|>", "<|im_end|>", "<|im_start|>", "a")));
        assertEquals("llama3", ChatTemplates.detect(vocab("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")));
        assertEquals("llama3", ChatTemplates.detect(vocab("<|begin_of_text|>", "<|eot_id|>")));
        assertEquals("phi3", ChatTemplates.detect(vocab("<s>", "<|endoftext|>", "<|user|>", "<|assistant|>", "<|end|>")));
        assertEquals("zephyr", ChatTemplates.detect(vocab("<s>", "</s>", "<|user|>", "<|assistant|>")));
        assertEquals("mistral", ChatTemplates.detect(vocab("<s>", "</s>", "[INST]", "[/INST]")));
        assertEquals("chatml", ChatTemplates.detect(vocab("<s>", "</s>", "▁Hello")), "nothing matches: llama.cpp's fallback");
    }

    @Test
    void fileTemplateWinsUnlessOverridden(@TempDir Path dir) throws Exception {
        Path withTemplate = MiniGguf.write(dir.resolve("own.gguf"), Map.of(ChatTemplates.GGUF_KEY,
                "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}{{ eos_token }}"));
        Tokenizer llama3 = vocab("<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>");
        try (GgufFile f = GgufFile.open(withTemplate)) {
            ChatTemplate own = ChatTemplates.fromGguf(f, llama3, null);
            assertEquals("gguf", own.name());
            assertEquals("<|begin_of_text|>[user]Hi<|eot_id|>", own.render(HI, true));
            ChatTemplate chatml = ChatTemplates.fromGguf(f, llama3, "chatml");
            assertEquals("chatml", chatml.name());
            assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", chatml.render(HI, true));
        }
        Path bare = MiniGguf.write(dir.resolve("bare.gguf"), new LinkedHashMap<>(Map.of("general.architecture", "llama")));
        try (GgufFile f = GgufFile.open(bare)) {
            ChatTemplate detected = ChatTemplates.fromGguf(f, llama3, null);
            assertEquals("llama3", detected.name());
            assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
                    detected.render(HI, true));
            Path file = Files.writeString(dir.resolve("mine.jinja"), "{% for m in messages %}{{ m.content | upper }}{% endfor %}");
            ChatTemplate fromFile = ChatTemplates.fromGguf(f, llama3, file.toString());
            assertEquals("mine.jinja", fromFile.name());
            assertEquals("HI", fromFile.render(HI, true));
            ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> ChatTemplates.fromGguf(f, llama3, "no-such"));
            assertEquals("chat template 'no-such' is neither a built-in (chatml, llama2, llama3, mistral, phi3, zephyr) nor a readable file",
                    e.getMessage());
        }
    }

    @Test
    void sharedVocabularies() {
        Path phi3 = Shared.model("vocab/ggml-vocab-phi-3.gguf");
        try (GgufFile f = GgufFile.open(phi3)) {
            Tokenizer t = Tokenizers.fromGguf(f);
            assertEquals("phi3", ChatTemplates.detect(t));
            ChatTemplate own = ChatTemplates.fromGguf(f, t, null);
            assertEquals("gguf", own.name());
            // the file's template: bos_token, then '<|user|>\n' + content + '<|end|>\n<|assistant|>\n' per user turn
            assertEquals("<s><|user|>\nHi<|end|>\n<|assistant|>\n", own.render(HI, true));
        }
        Path llama = Shared.model("vocab/ggml-vocab-llama-spm.gguf");
        try (GgufFile f = GgufFile.open(llama)) {
            Tokenizer t = Tokenizers.fromGguf(f);
            assertTrue(!f.has(ChatTemplates.GGUF_KEY), "llama-spm vocabulary carries no template");
            ChatTemplate fallback = ChatTemplates.fromGguf(f, t, null);
            assertEquals("chatml", fallback.name());
            assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", fallback.render(HI, true));
        }
    }
}
