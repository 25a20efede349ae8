package dev.tandem.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.kernels.Parallel;
import dev.tandem.model.Forward;
import dev.tandem.model.KvCache;
import dev.tandem.model.Model;
import dev.tandem.model.Sequence;
import dev.tandem.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line end to end: make-model → inspect → generate, and its error messages. */
class CliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void madeModelLoadsInspectsAndGenerates(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("tiny.gguf");
        Result made = run("make-model", "--arch", "llama", "--dim", "64", "--layers", "2", "--heads", "4", "--kv-heads", "2",
                "--ffn", "128", "--type", "q8_0", "--seed", "3", "--out", model.toString());
        assertEquals(0, made.code(), made.err());

        Result inspect = run("inspect", "--model", model.toString());
        assertEquals(0, inspect.code(), inspect.err());
        assertTrue(inspect.out().contains("general.architecture") && inspect.out().contains("blk.1.ffn_down.weight")
                && inspect.out().contains("Q8_0"), inspect.out());

        Path logitsFile = dir.resolve("last.f32");
        Result gen = run("generate", "--model", model.toString(), "--prompt", "Hello world", "-n", "12",
                "--temperature", "0", "--json", "--threads", "2", "--logits-out", logitsFile.toString());
        assertEquals(0, gen.code(), gen.err());
        JsonNode j = JSON.readTree(gen.out());
        int[] prompt = JSON.treeToValue(j.get("prompt_tokens"), int[].class);
        int[] tokens = JSON.treeToValue(j.get("tokens"), int[].class);
        assertTrue(prompt.length > 1 && tokens.length > 0 && tokens.length <= 12, gen.out());
        assertTrue(j.get("text").isTextual());
        assertTrue(gen.err().contains("tok/s"), gen.err());

        // The CLI's greedy tokens and logits are what the forward pass computes directly.
        try (Model m = Model.load(model); Parallel pool = new Parallel(1, "t")) {
            int vocab = m.config().vocab();
            int total = prompt.length + tokens.length;
            KvCache kv = KvCache.forPositions(m.config(), total, 16);
            Sequence seq = new Sequence(total, 16);
            kv.reserve(seq, total);
            Forward fw = new Forward(m, kv, pool, 4);
            float[] logits = new float[vocab];
            fw.prefill(seq, prompt, 0, prompt.length, logits, false);
            assertArrayEquals(logits, readF32(logitsFile), "--logits-out holds the last prompt position's logits");
            for (int i = 0; i < tokens.length; i++) {
                assertEquals(argmax(logits), tokens[i], "greedy token " + i);
                if (i + 1 < tokens.length) {
                    fw.decode(new Sequence[] {seq}, new int[] {tokens[i]}, 1, logits);
                }
            }
        }
    }

    @Test
    void generateMatchesLlamaCppPromptTokensAndFirstGreedyToken() throws Exception {
        Path ref = Shared.model("ref/llama-spm-q8_0.short.json");
        JsonNode j = JSON.readTree(ref.toFile());
        Path model = ref.resolveSibling("llama-spm-q8_0.gguf");
        Result gen = run("generate", "--model", model.toString(), "--prompt", j.get("prompt_text").asText(), "-n", "1",
                "--temperature", "0", "--json");
        assertEquals(0, gen.code(), gen.err());
        JsonNode g = JSON.readTree(gen.out());
        assertEquals(j.get("prompt_tokens"), g.get("prompt_tokens"));
        double tol = j.get("tolerance_vs_exact").asDouble();
        if (j.get("greedy_exact_margin").get(0).asDouble() > 2 * tol) {
            assertEquals(j.get("greedy_tokens").get(0).asInt(), g.get("tokens").get(0).asInt());
        }
    }

    @Test
    void errorsAreOneLineMessages(@TempDir Path dir) throws Exception {
        Result missing = run("generate", "--model", dir.resolve("nope.gguf").toString(), "--prompt", "x");
        assertEquals(1, missing.code());
        assertEquals(1, missing.err().strip().lines().count(), missing.err());
        assertTrue(missing.err().contains("nope.gguf") && missing.err().contains("no such file"), missing.err());

        Path junk = dir.resolve("junk.gguf");
        Files.writeString(junk, "this is not a model");
        Result notGguf = run("inspect", "--model", junk.toString());
        assertEquals(1, notGguf.code());
        assertTrue(notGguf.err().contains("junk.gguf") && notGguf.err().contains("not a GGUF file"), notGguf.err());

        Result badArch = run("make-model", "--arch", "gpt5", "--dim", "64", "--layers", "1", "--heads", "4", "--ffn", "64",
                "--out", dir.resolve("x.gguf").toString());
        assertEquals(2, badArch.code());
        assertTrue(badArch.err().contains("llama, qwen2, qwen3"), badArch.err());

        Result badTemp = run("generate", "--model", junk.toString(), "--prompt", "x", "--temperature", "-1");
        assertEquals(2, badTemp.code());
        assertTrue(badTemp.err().contains("temperature"), badTemp.err());
    }

    @Test
    void chatRendersTheTemplateBeforeTokenizing(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("chat.gguf");
        assertEquals(0, run("make-model", "--dim", "64", "--layers", "1", "--heads", "4", "--ffn", "64", "--out", model.toString()).code());
        Result gen = run("generate", "--model", model.toString(), "--chat", "--chat-template", "chatml", "--system", "Be brief.",
                "--prompt", "Hi", "-n", "1", "--temperature", "0", "--json");
        assertEquals(0, gen.code(), gen.err());
        assertTrue(gen.err().contains("chat template: chatml"), gen.err());
        String expected = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
        try (Model m = Model.load(model)) {
            int[] want = dev.tandem.tokenizer.Tokenizers.fromGguf(m.file()).encode(expected, true, true);
            assertArrayEquals(want, JSON.treeToValue(JSON.readTree(gen.out()).get("prompt_tokens"), int[].class));
        }
        Result misuse = run("generate", "--model", model.toString(), "--system", "x", "--prompt", "Hi");
        assertEquals(2, misuse.code());
        assertTrue(misuse.err().contains("only apply with --chat"), misuse.err());
    }

    @Test
    void helpListsSubcommands() {
        Result help = run("--help");
        assertEquals(0, help.code());
        for (String sub : new String[] {"generate", "inspect", "make-model"}) {
            assertTrue(help.out().contains(sub), help.out());
        }
    }

    static float[] readF32(Path p) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[b.remaining() / 4];
        b.asFloatBuffer().get(v);
        return v;
    }

    static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] > a[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void serveRefusesABadKvTypeOrTwoKvBudgets() {
        Result type = run("serve", "--model", "demo", "--port", "0", "--kv-type", "f8");
        assertEquals(2, type.code(), type.err());
        assertTrue(type.err().contains("unknown KV type \"f8\"; expected f32 or f16"), type.err());
        Result both = run("serve", "--model", "demo", "--port", "0", "--kv-positions", "4096", "--kv-cache-mb", "64");
        assertEquals(2, both.code(), both.err());
        assertTrue(both.err().contains("give --kv-positions or --kv-cache-mb, not both"), both.err());
    }
}
