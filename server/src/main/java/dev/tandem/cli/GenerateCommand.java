package dev.tandem.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.kernels.Parallel;
import dev.tandem.model.Forward;
import dev.tandem.model.KvCache;
import dev.tandem.model.Model;
import dev.tandem.model.ModelConfig;
import dev.tandem.model.Sampler;
import dev.tandem.model.SamplingParams;
import dev.tandem.model.Sequence;
import dev.tandem.tokenizer.ChatTemplate;
import dev.tandem.tokenizer.ChatTemplates;
import dev.tandem.tokenizer.StreamingDecoder;
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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code tandem generate}: one prompt in, text out, with prompt and generation speed on stderr. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate text from a prompt with a GGUF model (or the random-weight demo model).")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH|demo",
            description = "GGUF model file, or 'demo' for a small random-weight model made on first use.")
    String model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    static final class Prompt {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "Prompt text (BOS added as the model asks).")
        String text;

        @Option(names = "--prompt-tokens", paramLabel = "IDS", split = ",", description = "Prompt as token ids, e.g. 1,450,4996 (used as given).")
        int[] tokens;
    }

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "128", paramLabel = "N", description = "Tokens to generate at most (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0.8", paramLabel = "T", description = "0 = greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40", paramLabel = "K", description = "0 = off (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", paramLabel = "P", description = "Nucleus sampling (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--min-p", defaultValue = "0.05", paramLabel = "P", description = "Min-p sampling (default: ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", paramLabel = "R", description = "Repetition penalty, 1 = off (default: ${DEFAULT-VALUE}).")
    float repeatPenalty;

    @Option(names = "--presence-penalty", defaultValue = "0", paramLabel = "P", description = "OpenAI presence penalty (default: ${DEFAULT-VALUE}).")
    float presencePenalty;

    @Option(names = "--frequency-penalty", defaultValue = "0", paramLabel = "F", description = "OpenAI frequency penalty (default: ${DEFAULT-VALUE}).")
    float frequencyPenalty;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Compute threads (default: all cores).")
    Integer threads;

    @Option(names = "--batch", defaultValue = "64", paramLabel = "N", description = "Prefill chunk: prompt tokens per batched step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--json", description = "Print {\"prompt_tokens\":[…],\"tokens\":[…],\"text\":\"…\"} instead of streaming text.")
    boolean json;

    @Option(names = "--logits-out", paramLabel = "FILE", description = "Write the last prompt position's logits (little-endian float32).")
    Path logitsOut;

    @Option(names = "--ignore-eos", description = "Keep generating past end-of-generation tokens.")
    boolean ignoreEos;

    @Option(names = "--chat", description = "Treat --prompt as a user message and render it with the model's chat template.")
    boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "With --chat: a system message before the prompt.")
    String system;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE",
            description = "With --chat: a built-in template (chatml, llama2, llama3, mistral, phi3, zephyr) or a .jinja file instead of the model's.")
    String chatTemplate;

    @Option(names = "--kernels", defaultValue = "f32", paramLabel = "f32|q8", description = KernelsOption.DESCRIPTION)
    String kernels;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if ((chat || chatTemplate != null || system != null) && prompt.text == null) {
            throw new ParameterException(spec.commandLine(), "--chat, --system and --chat-template need --prompt TEXT");
        }
        if ((chatTemplate != null || system != null) && !chat) {
            throw new ParameterException(spec.commandLine(), "--system and --chat-template only apply with --chat");
        }
        if (maxTokens < 0) {
            throw new ParameterException(spec.commandLine(), "--max-tokens must be at least 0, not " + maxTokens);
        }
        if (batch < 1 || batch > 4096) {
            throw new ParameterException(spec.commandLine(), "--batch must be between 1 and 4096, not " + batch);
        }
        int nThreads = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (nThreads < 1 || nThreads > 1024) {
            throw new ParameterException(spec.commandLine(), "--threads must be between 1 and 1024, not " + nThreads);
        }
        SamplingParams params = new SamplingParams(temperature, topK, topP, minP, repeatPenalty, presencePenalty,
                frequencyPenalty, 64, seed);
        try {
            params.validate();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        KernelsOption.apply(kernels, spec, err);
        Path path = ModelPaths.resolve(model, err);
        try (Model m = Model.load(path); Parallel pool = new Parallel(nThreads, "tandem-compute")) {
            ModelConfig c = m.config();
            Tokenizer tok = Tokenizers.fromGguf(m.file());
            int[] promptTokens;
            if (prompt.tokens != null) {
                promptTokens = prompt.tokens;
            } else if (chat) {
                promptTokens = chatPrompt(m, tok, err);
            } else {
                promptTokens = tok.encode(prompt.text, true, true);
            }
            if (promptTokens.length == 0) {
                throw new ParameterException(spec.commandLine(), "the prompt is empty (no tokens)");
            }
            for (int t : promptTokens) {
                if (t < 0 || t >= c.vocab()) {
                    throw new ParameterException(spec.commandLine(), "prompt token " + t + " is outside the vocabulary (0.." + (c.vocab() - 1) + ")");
                }
            }
            int positions = promptTokens.length + maxTokens;
            if (positions > c.contextLength()) {
                throw new ParameterException(spec.commandLine(), "prompt (" + promptTokens.length + " tokens) + --max-tokens " + maxTokens
                        + " exceeds the model's context of " + c.contextLength());
            }
            if (ModelPaths.isDemo(model)) {
                err.println("note: the demo model has random weights; its output is random text.");
            }
            KvCache kv = KvCache.forPositions(c, positions, 16);
            Sequence seq = new Sequence(positions, 16);
            kv.reserve(seq, positions);
            Forward fw = new Forward(m, kv, pool, Math.min(batch, Math.max(1, promptTokens.length)));
            Sampler sampler = new Sampler(params, c.vocab());
            for (int t : promptTokens) {
                sampler.accept(t);
            }
            float[] logits = new float[c.vocab()];

            long t0 = System.nanoTime();
            fw.prefill(seq, promptTokens, 0, promptTokens.length, logits, false);
            long t1 = System.nanoTime();
            if (logitsOut != null) {
                writeF32(logitsOut, logits);
            }

            StreamingDecoder text = new StreamingDecoder(tok);
            StringBuilder all = new StringBuilder();
            int[] generated = new int[maxTokens];
            int count = 0;
            int[] one = new int[1];
            Sequence[] seqs = {seq};
            while (count < maxTokens) {
                int next = sampler.sample(logits, 0, c.vocab());
                sampler.accept(next);
                generated[count++] = next;
                if (!ignoreEos && tok.isEndOfGeneration(next)) {
                    break;
                }
                String piece = text.push(next);
                all.append(piece);
                if (!json && !piece.isEmpty()) {
                    out.print(piece);
                    out.flush();
                }
                if (count == maxTokens) {
                    break;
                }
                one[0] = next;
                fw.decode(seqs, one, 1, logits);
            }
            long t2 = System.nanoTime();
            String rest = text.flush();
            all.append(rest);
            if (json) {
                ObjectMapper mapper = new ObjectMapper();
                ObjectNode o = mapper.createObjectNode();
                o.set("prompt_tokens", mapper.valueToTree(promptTokens));
                o.set("tokens", mapper.valueToTree(Arrays.copyOf(generated, count)));
                o.put("text", all.toString());
                out.println(mapper.writeValueAsString(o));
            } else {
                out.println(rest);
            }
            out.flush();
            double prefillS = (t1 - t0) / 1e9, decodeS = (t2 - t1) / 1e9;
            int decodeSteps = Math.max(0, count - 1);
            err.printf("prompt: %d tokens in %.3f s (%.1f tok/s); generated: %d tokens in %.3f s (%.1f tok/s); %d threads, %s%n",
                    promptTokens.length, prefillS, promptTokens.length / prefillS, count, decodeS,
                    decodeSteps == 0 ? 0.0 : decodeSteps / decodeS, nThreads, c.name());
            err.flush();
        }
        return 0;
    }

    /** The chat template's rendering of [system,] user, tokenized; BOS added only if the template did not write it. */
    private int[] chatPrompt(Model m, Tokenizer tok, PrintWriter err) {
        ChatTemplate template = ChatTemplates.fromGguf(m.file(), tok, chatTemplate);
        List<ChatTemplate.Message> messages = new ArrayList<>();
        if (system != null) {
            messages.add(new ChatTemplate.Message("system", system));
        }
        messages.add(new ChatTemplate.Message("user", prompt.text));
        String text = template.render(messages, true);
        String bosText = tok.bos() >= 0 ? tok.tokenText(tok.bos()) : null;
        boolean hasBos = bosText != null && !bosText.isEmpty() && text.startsWith(bosText);
        err.println("chat template: " + template.name());
        return tok.encode(text, !hasBos, true);
    }

    private static void writeF32(Path file, float[] v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        Files.write(file, b.array());
    }
}
