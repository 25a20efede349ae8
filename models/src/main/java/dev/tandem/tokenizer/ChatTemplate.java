package dev.tandem.tokenizer;

import java.util.List;

/** Turns a conversation into the prompt text a chat model was trained on. */
public interface ChatTemplate {
    /** One message: role (system, developer, user, assistant, tool) and its text. */
    record Message(String role, String content) {
    }

    /**
     * The prompt text for {@code messages}; with {@code addGenerationPrompt}, ending where the
     * assistant's reply begins. Throws {@link ChatTemplateException} when the template refuses
     * the conversation (its {@code raise_exception} message) or cannot be rendered.
     */
    String render(List<Message> messages, boolean addGenerationPrompt);

    /** A short name for logs: the built-in's name, or "gguf" for the file's own template. */
    String name();
}
