package dev.tandem.http;

import dev.tandem.tokenizer.ChatTemplate;
import dev.tandem.tokenizer.ChatTemplateException;

import java.util.List;

/** {@code <s>[role]content\n…[assistant]}; refuses (like a template's raise_exception) a conversation whose last message is "refuse". */
final class FakeTemplate implements ChatTemplate {
    static String render(List<Message> messages) {
        StringBuilder sb = new StringBuilder("<s>");
        for (Message m : messages) {
            sb.append('[').append(m.role()).append(']').append(m.content()).append('\n');
        }
        return sb.append("[assistant]").toString();
    }

    @Override
    public String render(List<Message> messages, boolean addGenerationPrompt) {
        if (messages.getLast().content().equals("refuse")) {
            throw new ChatTemplateException("Conversation roles must alternate", true);
        }
        return render(messages);
    }

    @Override
    public String name() {
        return "fake";
    }
}
