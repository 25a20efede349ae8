package dev.tandem.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tandem template}: prints the rendered prompt byte for byte, and one-line errors. */
class TemplateCommandTest {
    private static final String CONVERSATION = """
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]""";

    @Test
    void rendersAFileTemplateExactly(@TempDir Path dir) throws Exception {
        Path template = Files.writeString(dir.resolve("t.jinja"),
                "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}\n{% endfor %}"
                        + "{% if add_generation_prompt %}<assistant>{% endif %}");
        Path messages = Files.writeString(dir.resolve("m.json"), CONVERSATION);
        CliTest.Result r = CliTest.run("template", "--template", template.toString(), "--messages", messages.toString(),
                "--bos", "<s>", "--eos", "</s>");
        assertEquals(0, r.code(), r.err());
        assertEquals("<s><system>Be brief.</s>\n<user>Hi</s>\n<assistant>", r.out());

        CliTest.Result noPrompt = CliTest.run("template", "--template", template.toString(), "--messages", messages.toString(),
                "--no-generation-prompt");
        assertEquals(0, noPrompt.code(), noPrompt.err());
        assertEquals("<system>Be brief.\n<user>Hi\n", noPrompt.out());
    }

    @Test
    void rendersABuiltinFromAMessagesObject(@TempDir Path dir) throws Exception {
        Path messages = Files.writeString(dir.resolve("m.json"), "{\"messages\": " + CONVERSATION + "}");
        CliTest.Result r = CliTest.run("template", "-t", "chatml", "--messages", messages.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", r.out());
    }

    @Test
    void errorsAreOneLine(@TempDir Path dir) throws Exception {
        Path messages = Files.writeString(dir.resolve("m.json"), CONVERSATION);
        Path refusing = Files.writeString(dir.resolve("r.jinja"),
                "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}");
        CliTest.Result raised = CliTest.run("template", "-t", refusing.toString(), "--messages", messages.toString());
        assertEquals(1, raised.code());
        assertEquals("tandem: System role not supported\n", raised.err().replace("\r", ""));

        Path broken = Files.writeString(dir.resolve("bad.json"), "[{\"role\": \"user\"}]");
        CliTest.Result bad = CliTest.run("template", "-t", "chatml", "--messages", broken.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("message 0 needs a string 'role' and a string 'content'"), bad.err());

        CliTest.Result none = CliTest.run("template", "--messages", messages.toString());
        assertEquals(2, none.code());
    }
}
