package dev.tandem.http;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official OpenAI Java SDK against a real server over {@link FakeEngine}: its parser accepting our shapes is the
 * point. Expected texts follow from FakeEngine's script (greedy: "The quick brown fox…"; sampled: "seed S says hello. ").
 */
class OpenAiSdkTest {
    private static TestServer srv;
    private static OpenAIClient client;
    private static final int CHAT_PROMPT = 1 + FakeTokenizer.ids("[user]hi\n[assistant]").length;

    @BeforeAll
    static void start() throws Exception {
        srv = new TestServer(ServerConfig.loopback(0).withApiKeys(List.of("sk-test")), 256, 64, true);
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + srv.port() + "/v1").apiKey("sk-test").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        srv.close();
    }

    private static ChatCompletionCreateParams.Builder chat() {
        return ChatCompletionCreateParams.builder().model(TestServer.MODEL).addUserMessage("hi");
    }

    @Test
    void chatCompletion() {
        ChatCompletion c = client.chat().completions().create(chat().temperature(0).maxCompletionTokens(9).build());
        assertEquals(1, c.choices().size());
        ChatCompletion.Choice ch = c.choices().getFirst();
        assertEquals("The quick", ch.message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, ch.finishReason());
        assertEquals(TestServer.MODEL, c.model());
        assertEquals(CHAT_PROMPT, c.usage().orElseThrow().promptTokens());
        assertEquals(9, c.usage().orElseThrow().completionTokens());
        assertEquals(CHAT_PROMPT + 9, c.usage().orElseThrow().totalTokens());
    }

    @Test
    void chatStopsAtEndOfGeneration() {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model(TestServer.MODEL)
                .addSystemMessage("be short").addUserMessage("hello").build());
        assertEquals("Hi!", c.choices().getFirst().message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().getFirst().finishReason());
        assertEquals(4, c.usage().orElseThrow().completionTokens()); // "H", "i", "!", EOS
    }

    @Test
    void chatStreamWithUsage() {
        StringBuilder text = new StringBuilder();
        List<String> finish = new ArrayList<>();
        long[] usage = new long[3];
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(chat().temperature(0)
                .maxCompletionTokens(30).stop("fox").streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(chunk -> {
                for (ChatCompletionChunk.Choice c : chunk.choices()) {
                    c.delta().content().ifPresent(text::append);
                    c.finishReason().ifPresent(f -> finish.add(f.asString()));
                }
                chunk.usage().ifPresent(u -> {
                    usage[0] = u.promptTokens();
                    usage[1] = u.completionTokens();
                    usage[2] = u.totalTokens();
                });
            });
        }
        assertEquals("The quick brown ", text.toString()); // "fox" is a stop string: never emitted
        assertEquals(List.of("stop"), finish);
        assertEquals(List.of((long) CHAT_PROMPT, 19L, CHAT_PROMPT + 19L), List.of(usage[0], usage[1], usage[2]));
    }

    @Test
    void chatLogprobs() {
        ChatCompletion c = client.chat().completions().create(chat().temperature(0).maxCompletionTokens(3).logprobs(true).topLogprobs(2).build());
        List<ChatCompletionTokenLogprob> lp = c.choices().getFirst().logprobs().orElseThrow().content().orElseThrow();
        assertEquals(List.of("T", "h", "e"), lp.stream().map(ChatCompletionTokenLogprob::token).toList());
        for (int i = 0; i < 3; i++) {
            double chosen = -0.25 * (i + 1); // FakeEngine: -0.25 × tokens generated so far
            assertEquals(chosen, lp.get(i).logprob(), 0.0, "token " + i);
            assertEquals(2, lp.get(i).topLogprobs().size());
            assertEquals(lp.get(i).token(), lp.get(i).topLogprobs().get(0).token());
            assertEquals(chosen - 1, lp.get(i).topLogprobs().get(1).logprob(), 0.0);
            assertEquals(List.of((long) "The".charAt(i)), lp.get(i).bytes().orElseThrow());
        }
    }

    @Test
    void completionsWithNAndSeedAreDistinctAndReproducible() {
        CompletionCreateParams p = CompletionCreateParams.builder().model(TestServer.MODEL).prompt("Once").n(3L).seed(7L).maxTokens(12L).build();
        Completion a = client.completions().create(p);
        Completion b = client.completions().create(p);
        Map<Long, String> texts = new TreeMap<>();
        a.choices().forEach(c -> texts.put(c.index(), c.text()));
        assertEquals(Map.of(0L, "seed 7 says ", 1L, "seed 8 says ", 2L, "seed 9 says "), texts);
        assertEquals(a.choices().stream().map(CompletionChoice::text).toList(), b.choices().stream().map(CompletionChoice::text).toList());
        assertEquals(1 + 4, a.usage().orElseThrow().promptTokens()); // BOS + "Once", counted once for n = 3
        assertEquals(36, a.usage().orElseThrow().completionTokens());
    }

    @Test
    void completionsDefaultMaxTokensIs16AndPromptArrays() {
        Completion c = client.completions().create(CompletionCreateParams.builder().model(TestServer.MODEL)
                .promptOfArrayOfStrings(List.of("a", "b")).n(2L).temperature(0).build());
        assertEquals(List.of(0L, 1L, 2L, 3L), c.choices().stream().map(CompletionChoice::index).sorted().toList());
        for (CompletionChoice ch : c.choices()) {
            assertEquals("The quick brown ", ch.text()); // 16 tokens: OpenAI's default for completions
            assertEquals(CompletionChoice.FinishReason.LENGTH, ch.finishReason());
        }
        Completion t = client.completions().create(CompletionCreateParams.builder().model(TestServer.MODEL)
                .promptOfArrayOfTokens(List.of(1L, 3L + 'x')).temperature(0).maxTokens(3L).echo(true).build());
        assertEquals("xThe", t.choices().getFirst().text()); // echo: the prompt text, then the completion
        assertEquals(2, t.usage().orElseThrow().promptTokens());
    }

    @Test
    void completionsStreamWithStopAndLogprobs() {
        StringBuilder text = new StringBuilder();
        List<String> tokens = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        List<String> finish = new ArrayList<>();
        try (StreamResponse<Completion> s = client.completions().createStreaming(CompletionCreateParams.builder().model(TestServer.MODEL)
                .prompt("x").temperature(0).maxTokens(40L).stop("ick").logprobs(3L).build())) {
            s.stream().forEach(chunk -> {
                for (CompletionChoice c : chunk.choices()) {
                    text.append(c.text());
                    c.logprobs().ifPresent(lp -> {
                        tokens.addAll(lp.tokens().orElseThrow());
                        offsets.addAll(lp.textOffset().orElseThrow());
                        assertEquals(3, lp.topLogprobs().orElseThrow().getFirst()._additionalProperties().size());
                    });
                    if (!c._finishReason().isNull()) {
                        finish.add(c.finishReason().asString());
                    }
                }
            });
        }
        assertEquals("The qu", text.toString());
        assertEquals(List.of("T", "h", "e", " ", "q", "u", "i", "c", "k"), tokens); // every generated token, held-back ones too
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 6L, 6L), offsets);
        assertEquals(List.of("stop"), finish);
    }

    @Test
    void wrongModelIs404ThroughTheSdk() {
        assertThrows(NotFoundException.class, () -> client.completions().create(CompletionCreateParams.builder().model("gpt-4o")
                .prompt("x").build()));
    }
}
