package dev.tandem.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.gguf.GgufFile;
import dev.tandem.tokenizer.ChatTemplate;
import dev.tandem.tokenizer.ChatTemplates;
import dev.tandem.tokenizer.Tokenizer;
import dev.tandem.tokenizer.Tokenizers;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code tandem template}: the prompt text a chat template makes of a conversation, printed exactly. */
@Command(name = "template", mixinStandardHelpOptions = true,
        description = "Render a conversation through a chat template and print the prompt exactly (no added newline).")
final class TemplateCommand implements Callable<Integer> {
    static final class Source {
        @Option(names = {"-m", "--model"}, paramLabel = "PATH|demo",
                description = "GGUF file: its tokenizer.chat_template, else a built-in chosen from its special tokens.")
        String model;

        @Option(names = {"-t", "--template"}, paramLabel = "FILE|NAME",
                description = "A .jinja file or a built-in (chatml, llama2, llama3, mistral, phi3, zephyr); "
                        + "with --model, overrides the file's template.")
        String template;
    }

    @ArgGroup(exclusive = false, multiplicity = "1")
    Source source;

    @Option(names = "--messages", required = true, paramLabel = "FILE.json",
            description = "A JSON array of {role, content}, or {\"messages\": [...]}.")
    Path messages;

    @Option(names = "--no-generation-prompt", description = "Do not end with the assistant's turn opening.")
    boolean noGenerationPrompt;

    @Option(names = "--bos", paramLabel = "TEXT", description = "bos_token (default: the model's BOS text, else undefined).")
    String bos;

    @Option(names = "--eos", paramLabel = "TEXT", description = "eos_token (default: the model's EOS text, else undefined).")
    String eos;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<ChatTemplate.Message> conversation = readMessages(messages);
        ChatTemplate template;
        if (source.model != null) {
            Path path = ModelPaths.resolve(source.model, spec.commandLine().getErr());
            try (GgufFile f = GgufFile.open(path)) {
                Tokenizer tokenizer = Tokenizers.fromGguf(f);
                String b = bos != null ? bos : tokenizer.bos() >= 0 ? tokenizer.tokenText(tokenizer.bos()) : null;
                String e = eos != null ? eos : tokenizer.eos() >= 0 ? tokenizer.tokenText(tokenizer.eos()) : null;
                template = ChatTemplates.fromGguf(f, tokenizer, source.template, b, e);
            }
        } else {
            template = ChatTemplates.fromOverride(source.template, bos, eos);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(template.render(conversation, !noGenerationPrompt));
        out.flush();
        return 0;
    }

    private List<ChatTemplate.Message> readMessages(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (JsonProcessingException e) {
            throw new ParameterException(spec.commandLine(), file + ": not JSON (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JsonNode list = root != null && root.isObject() ? root.get("messages") : root;
        if (list == null || !list.isArray()) {
            throw new ParameterException(spec.commandLine(), file + ": expected an array of messages or {\"messages\": [...]}");
        }
        List<ChatTemplate.Message> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            JsonNode role = m.get("role");
            JsonNode content = m.get("content");
            if (role == null || !role.isTextual() || content == null || !content.isTextual()) {
                throw new ParameterException(spec.commandLine(),
                        file + ": message " + i + " needs a string 'role' and a string 'content'");
            }
            out.add(new ChatTemplate.Message(role.asText(), content.asText()));
        }
        return out;
    }
}
