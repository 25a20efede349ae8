package dev.tandem.engine;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The prefill pool's step order: a short prompt that arrives while a long one is being prefilled
 * gets its first token within a step instead of after the long prompt; the long prompt still
 * advances by at least half a step every step; every token is still what a plain Forward loop gives.
 */
class PrefillOrderTest {

    /** Records the order in which requests got their first token. */
    private static final class FirstTokenOrder {
        final List<String> order = Collections.synchronizedList(new ArrayList<>());

        TokenSink sink(String name, RecordingSink rec) {
            return new TokenSink() {
                @Override
                public void onToken(int tokenId, String textPiece, Logprobs lp) {
                    if (rec.tokens.isEmpty()) {
                        order.add(name);
                    }
                    rec.onToken(tokenId, textPiece, lp);
                }

                @Override
                public void onFinish(FinishReason reason, Usage usage) {
                    rec.onFinish(reason, usage);
                }

                @Override
                public void onError(EngineException error) {
                    rec.onError(error);
                }
            };
        }
    }

    @Test
    void aShortPromptIsNotQueuedBehindALongOne() throws Exception {
        try (EngineFixture fx = new EngineFixture("llama31-q8_0.gguf");
             SplitEngine engine = SplitFixture.engine(fx, KvMigration.Strategy.HANDOFF, 4, 16, 256, 8)) {
            GenerationRequest longOne = EngineFixture.greedy(fx.prompt(120, 1), 4);   // 8 steps of 16 alone
            GenerationRequest shortOne = EngineFixture.greedy(fx.prompt(6, 2), 4);    // fits in half a step
            FirstTokenOrder firsts = new FirstTokenOrder();
            CountDownLatch firstChunk = new CountDownLatch(1), go = new CountDownLatch(1);
            engine.prefill.afterChunk = () -> { // hold the prefill thread after the long prompt's first step
                firstChunk.countDown();
                try {
                    go.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            RecordingSink l = new RecordingSink(), s = new RecordingSink();
            engine.submit(longOne, firsts.sink("long", l));
            assertTrue(firstChunk.await(30, TimeUnit.SECONDS), "the long prompt never started");
            engine.prefill.afterChunk = null;
            engine.submit(shortOne, firsts.sink("short", s));
            Thread.sleep(50); // let the submission reach the inbox before the prefill thread goes on
            go.countDown();
            s.await();
            l.await();
            assertEquals(List.of("short", "long"), firsts.order, "the 6-token prompt finished within the 120-token one's prefill");
            assertArrayEquals(fx.direct(longOne), l.tokenArray(), "long vs direct");
            assertArrayEquals(fx.direct(shortOne), s.tokenArray(), "short vs direct");
            assertEquals(0, engine.kvPagesUsed());
        }
    }

    @Test
    void theColocatedEngineOrdersItsChunksTheSameWay() throws Exception {
        try (EngineFixture fx = new EngineFixture("llama31-q8_0.gguf");
             ColocatedEngine engine = SplitFixture.colocated(fx, 4, 16, 256, 8)) {
            GenerationRequest longOne = EngineFixture.greedy(fx.prompt(120, 1), 4);
            GenerationRequest shortOne = EngineFixture.greedy(fx.prompt(6, 2), 4);
            FirstTokenOrder firsts = new FirstTokenOrder();
            RecordingSink l = new RecordingSink(), s = new RecordingSink();
            engine.submit(longOne, firsts.sink("long", l));
            engine.submit(shortOne, firsts.sink("short", s)); // within the long prompt's 8 chunks
            s.await();
            l.await();
            assertEquals(List.of("short", "long"), firsts.order);
            assertArrayEquals(fx.direct(longOne), l.tokenArray(), "long vs direct");
            assertArrayEquals(fx.direct(shortOne), s.tokenArray(), "short vs direct");
        }
    }
}
