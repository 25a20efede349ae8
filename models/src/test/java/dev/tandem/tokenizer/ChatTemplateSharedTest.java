package dev.tandem.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.testing.Shared;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every published template in {@code shared/models/templates} renders every conversation there to exactly the text
 * Hugging Face's renderer produced ({@code expected.json}), or refuses it with the same message. Clock fixed to
 * 2026-11-28 as when the expected texts were made.
 */
class ChatTemplateSharedTest {
    private static final String ERROR_PREFIX = "TemplateError: "; // jinja2's exception class, as expected.json records it

    @TestFactory
    List<DynamicTest> publishedTemplatesRenderLikeTransformers() throws IOException {
        Path dir = Shared.model("templates");
        ObjectMapper json = new ObjectMapper();
        JsonNode conversations = json.readTree(dir.resolve("conversations.json").toFile());
        JsonNode expected = json.readTree(dir.resolve("expected.json").toFile());
        List<DynamicTest> tests = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String templateName = entry.getKey();
            JsonNode spec = entry.getValue();
            String source = Files.readString(dir.resolve(templateName + ".jinja"));
            JinjaChatTemplate template = new JinjaChatTemplate(source, text(spec.get("bos_token")),
                    text(spec.get("eos_token")), templateName, ChatTemplateEngineTest.FIXED);
            for (JsonNode want : spec.get("cases")) {
                JsonNode conversation = find(conversations, want.get("name").asText());
                List<ChatTemplate.Message> messages = new ArrayList<>();
                for (JsonNode m : conversation.get("messages")) {
                    messages.add(new ChatTemplate.Message(m.get("role").asText(), m.get("content").asText()));
                }
                boolean generationPrompt = conversation.get("add_generation_prompt").asBoolean();
                String label = templateName + " / " + want.get("name").asText();
                tests.add(DynamicTest.dynamicTest(label, () -> {
                    if (want.has("rendered")) {
                        assertEquals(want.get("rendered").asText(), template.render(messages, generationPrompt),
                                () -> label + " with " + messages + ", add_generation_prompt=" + generationPrompt);
                    } else {
                        String error = want.get("error").asText();
                        assertTrue(error.startsWith(ERROR_PREFIX), error);
                        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                                () -> template.render(messages, generationPrompt), label);
                        assertEquals(error.substring(ERROR_PREFIX.length()), e.getMessage(), label);
                        assertTrue(e.raisedByTemplate(), label);
                    }
                }));
            }
        }
        assertEquals(30, tests.size(), "10 templates x 3 conversations in expected.json");
        return tests;
    }

    private static String text(JsonNode node) {
        return node == null || node.isNull() ? null : node.asText();
    }

    private static JsonNode find(JsonNode conversations, String name) {
        for (JsonNode c : conversations) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("conversation " + name + " not in conversations.json");
    }
}
