package dev.tandem.cli;

import dev.tandem.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tandem tokenize} / {@code detokenize} against llama.cpp's vocabulary test files. */
class TokenizeCliTest {
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-falcon.gguf",
            "ggml-vocab-mpt.gguf", "ggml-vocab-starcoder.gguf", "ggml-vocab-refact.gguf", "ggml-vocab-deepseek-coder.gguf",
            "ggml-vocab-deepseek-llm.gguf"})
    void tokenizeFileReproducesLlamaCppOutFile(String vocab) throws Exception {
        Path model = Shared.model("vocab/" + vocab);
        Path inp = Shared.model("vocab/" + vocab + ".inp");
        String expected = Files.readString(Shared.model("vocab/" + vocab + ".out"), StandardCharsets.UTF_8);
        Result r = run("tokenize", "--model", model.toString(), "--file", inp.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(expected, r.out(), vocab + ": tokenize --file " + inp);
    }

    @Test
    void textWithBosAndDetokenize() {
        Path model = Shared.model("vocab/ggml-vocab-llama-spm.gguf");
        // ids from ggml-vocab-llama-spm.gguf.out for " Hello world" ("▁▁Hello ▁world"); BOS is 1 and this vocabulary adds it
        Result plain = run("tokenize", "--model", model.toString(), "--text", " Hello world");
        assertEquals(0, plain.code(), plain.err());
        assertEquals(" 29871 15043 3186\n", plain.out());
        Result withBos = run("tokenize", "--model", model.toString(), "--text", " Hello world", "--bos");
        assertEquals(" 1 29871 15043 3186\n", withBos.out());

        Result back = run("detokenize", "--model", model.toString(), "--ids", "29871,15043, 3186");
        assertEquals(0, back.code(), back.err());
        assertEquals(" Hello world\n", back.out());
    }

    @Test
    void gpt2DoesNotAddBos() {
        Path model = Shared.model("vocab/ggml-vocab-gpt-2.gguf");
        // ggml-vocab-gpt-2.gguf.out, case "Hello world": 15496 995; gpt-2 files do not set add_bos_token and llama.cpp's BPE default is false
        Result r = run("tokenize", "--model", model.toString(), "--text", "Hello world", "--bos");
        assertEquals(0, r.code(), r.err());
        assertEquals(" 15496 995\n", r.out());
        Result back = run("detokenize", "--model", model.toString(), "--ids", "15496,995");
        assertEquals("Hello world\n", back.out());
    }

    @Test
    void errorsAreOneLine() {
        Path model = Shared.model("vocab/ggml-vocab-gpt-2.gguf");
        Result badId = run("detokenize", "--model", model.toString(), "--ids", "1,x");
        assertEquals(1, badId.code());
        assertEquals("tandem: --ids: 'x' is not a token id (expected e.g. --ids 15043,3186)\n", badId.err());

        Result outside = run("detokenize", "--model", model.toString(), "--ids", "50257");
        assertEquals(1, outside.code());
        assertTrue(outside.err().startsWith("tandem: token id 50257 is outside the vocabulary (0..50256)")
                && outside.err().indexOf('\n') == outside.err().length() - 1, outside.err());

        Result missing = run("tokenize", "--model", model.toString(), "--file", "/nonexistent/cases.inp");
        assertEquals(1, missing.code());
        assertEquals("tandem: /nonexistent/cases.inp: no such file\n", missing.err());

        Result both = run("tokenize", "--model", model.toString(), "--file", "a.inp", "--text", "b");
        assertEquals(2, both.code(), both.err());
    }
}
