package dev.tandem.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.testing.Shared;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The prompts of the reference models: tokenizing prompt_text with BOS gives llama.cpp's prompt_tokens. */
class ReferencePromptTest {

    @Test
    void llamaSpmPromptsTokenizeLikeLlamaCpp() throws IOException {
        List<String> checked = checkAll("llama-spm-", true);
        assertTrue(checked.size() >= 6, "expected the llama-spm-{q8_0,q4_0,q4_k_m}.{short,long}.json files, found " + checked);
    }

    /** The 512-token vocabulary (the first 512 entries of llama-spm) of the llama31 / qwen2 / qwen3 files. */
    @Test
    void smallVocabularyPromptsTokenizeLikeLlamaCpp() throws IOException {
        List<String> checked = new ArrayList<>();
        for (String family : List.of("llama31-", "qwen2-", "qwen3-")) {
            // no round trip here: this vocabulary lacks the lone "▁" token, so a space before a digit falls back to
            // the bytes of "▁" and decodes as "▁" — in llama.cpp too
            checked.addAll(checkAll(family, false));
        }
        assertEquals(-1, TestVocabs.tokenizer("ref/llama31-f32.gguf").tokenId("▁"), "the 512-token vocabulary has no lone ▁");
        assertTrue(checked.size() >= 6, "expected reference files for llama31 / qwen2 / qwen3, found " + checked);
    }

    private static List<String> checkAll(String prefix, boolean roundTrip) throws IOException {
        Path ref = Shared.model("ref");
        List<Path> jsons;
        try (Stream<Path> s = Files.list(ref)) {
            jsons = s.filter(p -> p.getFileName().toString().startsWith(prefix) && p.getFileName().toString().endsWith(".json"))
                    .sorted().toList();
        }
        ObjectMapper mapper = new ObjectMapper();
        List<String> checked = new ArrayList<>();
        for (Path json : jsons) {
            String name = json.getFileName().toString();
            String model = name.substring(0, name.indexOf('.')) + ".gguf"; // llama-spm-q8_0.short.json → llama-spm-q8_0.gguf
            Tokenizer t = TestVocabs.tokenizer("ref/" + model);
            JsonNode root = mapper.readTree(json.toFile());
            String text = root.get("prompt_text").asText();
            int[] expected = new int[root.get("prompt_tokens").size()];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = root.get("prompt_tokens").get(i).asInt();
            }
            int[] got = t.encode(text, true, false);
            assertArrayEquals(expected, got, () -> name + ": prompt " + TestVocabs.quote(text) + ", first difference at index "
                    + Arrays.mismatch(expected, got) + "\n  expected " + TestVocabs.describe(t, expected) + "\n  got      " + TestVocabs.describe(t, got));
            assertArrayEquals(expected, t.encode(text, true, true), name + ": parse_special must not change a prompt without special texts");
            if (roundTrip) {
                assertEquals(" " + text, t.decode(got), name + ": decoding [BOS, ...] keeps the prefix space, as llama.cpp's detokenize");
            }
            checked.add(name);
        }
        return checked;
    }
}
