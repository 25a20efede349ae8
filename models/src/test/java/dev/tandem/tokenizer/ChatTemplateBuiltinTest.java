package dev.tandem.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each built-in renders a system + user + assistant conversation, and a single user turn with the generation prompt,
 * to the text its family's published format gives (written out by hand from the model cards' format, not from our
 * output).
 */
class ChatTemplateBuiltinTest {
    static final List<ChatTemplate.Message> THREE = List.of(
            new ChatTemplate.Message("system", "You are terse."),
            new ChatTemplate.Message("user", "Hi there"),
            new ChatTemplate.Message("assistant", "Hello."));
    static final List<ChatTemplate.Message> ONE = List.of(new ChatTemplate.Message("user", "Hi there"));

    private static void check(String name, String bos, String eos, String three, String oneWithPrompt) {
        ChatTemplate t = ChatTemplates.builtin(name, bos, eos);
        assertEquals(name, t.name());
        assertEquals(three, t.render(THREE, false), name + " on " + THREE);
        assertEquals(oneWithPrompt, t.render(ONE, true), name + " on " + ONE + " with generation prompt");
    }

    @Test
    void chatml() {
        check("chatml", null, "<|im_end|>",
                "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n"
                        + "<|im_start|>assistant\nHello.<|im_end|>\n",
                "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n");
    }

    @Test
    void llama3() {
        check("llama3", "<|begin_of_text|>", "<|eot_id|>",
                "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>",
                "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
    }

    @Test
    void llama2() {
        check("llama2", "<s>", "</s>",
                "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi there [/INST] Hello. </s>",
                "<s>[INST] Hi there [/INST]");
    }

    @Test
    void mistral() {
        check("mistral", "<s>", "</s>",
                "<s>[INST] You are terse.\n\nHi there [/INST]Hello.</s>",
                "<s>[INST] Hi there [/INST]");
    }

    @Test
    void phi3() {
        check("phi3", "<s>", "<|endoftext|>",
                "<|system|>\nYou are terse.<|end|>\n<|user|>\nHi there<|end|>\n<|assistant|>\nHello.<|end|>\n<|endoftext|>",
                "<|user|>\nHi there<|end|>\n<|assistant|>\n");
    }

    @Test
    void zephyr() {
        check("zephyr", "<s>", "</s>",
                "<|system|>\nYou are terse.</s>\n<|user|>\nHi there</s>\n<|assistant|>\nHello.</s>\n",
                "<|user|>\nHi there</s>\n<|assistant|>\n");
    }

    @Test
    void alternationIsEnforcedWhereTheFormatRequiresIt() {
        List<ChatTemplate.Message> twoUsers = List.of(new ChatTemplate.Message("user", "a"), new ChatTemplate.Message("user", "b"));
        for (String name : List.of("llama2", "mistral")) {
            ChatTemplateException e = assertThrows(ChatTemplateException.class,
                    () -> ChatTemplates.builtin(name, "<s>", "</s>").render(twoUsers, true), name);
            assertTrue(e.raisedByTemplate(), name);
            assertEquals("Conversation roles must alternate user/assistant/user/assistant/...", e.getMessage(), name);
        }
    }

    @Test
    void unknownNameListsTheBuiltins() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> ChatTemplates.builtin("vicuna", null, null));
        assertEquals("unknown chat template 'vicuna'; built-ins: chatml, llama2, llama3, mistral, phi3, zephyr", e.getMessage());
    }
}
