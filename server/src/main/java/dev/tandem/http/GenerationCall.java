package dev.tandem.http;

import dev.tandem.engine.Engine;
import dev.tandem.engine.EngineException;
import dev.tandem.engine.Engines;
import dev.tandem.engine.FinishReason;
import dev.tandem.engine.Logprobs;
import dev.tandem.engine.ModelInfo;
import dev.tandem.engine.RequestHandle;
import dev.tandem.engine.TokenSink;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One completions / chat request in flight: submits one engine request per choice, receives their tokens
 * (engine threads hop onto the channel's event loop, where all state lives) and answers either as one JSON
 * body at the end or as an SSE stream. The client leaving cancels every choice; so does a stream that
 * overflows its buffer. Ends exactly once and then calls {@code onEnd}.
 */
final class GenerationCall {
    private final Channel ch;
    private final EventLoop loop;
    private final ServerState state;
    private final Exchange ex;
    private final PreparedCall call;
    private final Runnable onEnd;
    private final OpenAiResponses shapes;
    private final List<ChoiceState> states = new ArrayList<>();
    private final RequestHandle[] handles;
    private final ChannelFutureListener closeListener = f -> clientGone();
    private SseStream sse;
    private ScheduledFuture<?> keepAlive;
    private int running;
    private boolean ended;

    GenerationCall(Channel ch, ServerState state, Exchange ex, PreparedCall call, ModelInfo model, Runnable onEnd) {
        this.ch = ch;
        this.loop = ch.eventLoop();
        this.state = state;
        this.ex = ex;
        this.call = call;
        this.onEnd = onEnd;
        String id = (call.chat() ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        this.shapes = new OpenAiResponses(id, System.currentTimeMillis() / 1000, call.model(), call.chat(),
                call.options().includeUsage(), model.tokenizer());
        for (PreparedCall.Choice c : call.choices()) {
            states.add(new ChoiceState(c));
        }
        this.handles = new RequestHandle[states.size()];
        ex.promptTokens = call.promptTokens();
    }

    /** On the event loop: submit every choice, then open the stream. A refusal cancels what was submitted and answers with its status. */
    void start(Engine engine) {
        if (!ch.isActive()) {
            finish(499, "client gone before submission");
            return;
        }
        try {
            // The n choices of one prompt (consecutive, seeds seed + j) go in as one group: the split
            // engine prefills the prompt once and shares its KV pages; other engines run n requests.
            for (int i = 0; i < states.size(); ) {
                int j = i + 1;
                while (j < states.size() && states.get(j).choice.promptIds() == states.get(i).choice.promptIds()) {
                    j++;
                }
                RequestHandle h;
                if (j - i == 1) {
                    h = engine.submit(states.get(i).choice.request(), sink(i));
                } else {
                    List<TokenSink> sinks = new ArrayList<>(j - i);
                    for (int k = i; k < j; k++) {
                        sinks.add(sink(k));
                    }
                    h = Engines.submit(engine, states.get(i).choice.request(), sinks);
                }
                for (int k = i; k < j; k++) {
                    handles[k] = h;
                    running++;
                }
                i = j;
            }
        } catch (EngineException e) {
            cancelAll();
            failBeforeHead(ApiException.fromEngine(e));
            return;
        } catch (RuntimeException e) {
            cancelAll();
            failBeforeHead(new ApiException(500, "server_error", null, null, "the engine refused the request: " + e));
            return;
        }
        ch.closeFuture().addListener(closeListener);
        if (call.options().stream()) {
            sse = new SseStream(ch, state, ex.keepAlive, this::overflowed);
            sse.begin();
            for (ChoiceState s : states) {
                if (call.chat()) {
                    sse.event(Json.string(shapes.chunk(s.choice.index(), "assistant", "", null, null)));
                } else if (!s.choice.echoText().isEmpty()) {
                    sse.event(Json.string(shapes.chunk(s.choice.index(), null, s.choice.echoText(), null, null)));
                }
            }
            long every = state.config.keepAliveMillis();
            keepAlive = loop.scheduleAtFixedRate(() -> sse.keepAliveIfIdle(TimeUnit.MILLISECONDS.toNanos(every)),
                    every, every, TimeUnit.MILLISECONDS);
        } else {
            for (ChoiceState s : states) {
                s.text.append(s.choice.echoText());
            }
        }
    }

    /** The channel's writability changed. */
    void writabilityChanged() {
        if (sse != null) {
            sse.drain();
        }
    }

    private TokenSink sink(int i) {
        return new TokenSink() {
            @Override
            public void onToken(int tokenId, String textPiece, Logprobs logprobs) {
                hop(() -> token(i, tokenId, textPiece, logprobs));
            }

            @Override
            public void onFinish(FinishReason reason, dev.tandem.engine.Usage usage) {
                hop(() -> finished(i, reason, usage.completionTokens()));
            }

            @Override
            public void onError(EngineException error) {
                hop(() -> failed(ApiException.fromEngine(error)));
            }
        };
    }

    private void hop(Runnable r) {
        try {
            loop.execute(r);
        } catch (RejectedExecutionException e) {
            // the event loop is shutting down: the connection is going away with it
        }
    }

    private void token(int i, int tokenId, String piece, Logprobs lp) {
        if (ended) {
            return;
        }
        ChoiceState s = states.get(i);
        boolean wantLp = s.choice.request().logprobs() && lp != null;
        int offset = s.chars;
        s.chars += piece.length();
        if (sse == null) {
            s.text.append(piece);
            if (wantLp) {
                s.tokens.add(tokenId);
                s.logprobs.add(lp);
                s.textOffsets.add(offset);
            }
            return;
        }
        if (piece.isEmpty() && !wantLp) {
            return;
        }
        Object lps = null;
        if (wantLp) {
            lps = call.chat() ? shapes.chatLogprobs(List.of(tokenId), List.of(lp)) : shapes.completionLogprobs(tokenId, lp, offset);
        }
        sse.event(Json.string(shapes.chunk(s.choice.index(), null, piece, (com.fasterxml.jackson.databind.node.ObjectNode) lps, null)));
    }

    private void finished(int i, FinishReason reason, int completionTokens) {
        if (ended) {
            return;
        }
        if (reason == FinishReason.CANCELLED) { // not by us (we would have ended): the engine is shutting down
            failed(ApiException.unavailable("the request was cancelled: the server is shutting down"));
            return;
        }
        ChoiceState s = states.get(i);
        s.finish = reason;
        s.completionTokens = completionTokens;
        ex.completionTokens += completionTokens;
        running--;
        if (sse != null) {
            sse.event(Json.string(shapes.chunk(s.choice.index(), null, call.chat() ? null : "", null, ChoiceState.reason(reason))));
        }
        if (running > 0) {
            return;
        }
        if (sse != null) {
            if (call.options().includeUsage()) {
                sse.event(Json.string(shapes.usageChunk(call.promptTokens(), ex.completionTokens)));
            }
            finish(200, null); // first: the last write may close the connection, which must not look like a client leaving
            sse.done();
        } else {
            finish(0, null);
            Responses.json(ch, state, ex, 200, shapes.full(states, call.promptTokens()));
        }
    }

    private void failed(ApiException e) {
        if (ended) {
            return;
        }
        cancelAll();
        if (sse != null) {
            sse.event(Json.string(Json.error(e)));
            finish(200, "failed after the stream began: " + e.getMessage());
            sse.done();
        } else {
            failBeforeHead(e);
        }
    }

    private void failBeforeHead(ApiException e) {
        finish(0, null);
        Responses.error(ch, state, ex, e);
    }

    private void clientGone() {
        if (ended) {
            return;
        }
        state.metrics.clientGone();
        cancelAll();
        if (sse != null) {
            sse.release();
        }
        finish(499, "client disconnected; cancelled");
    }

    private void overflowed() {
        if (ended) {
            return;
        }
        cancelAll();
        finish(200, "client read too slowly; stream buffer over " + state.config.streamBufferBytes() + " bytes; cancelled");
        ch.close();
    }

    private void cancelAll() {
        for (RequestHandle h : handles) {
            if (h != null) {
                h.cancel();
            }
        }
    }

    /** Ends the call once; a status of 0 means the response writer logs (it knows the status). */
    private void finish(int status, String note) {
        if (ended) {
            return;
        }
        ended = true;
        if (keepAlive != null) {
            keepAlive.cancel(false);
        }
        ch.closeFuture().removeListener(closeListener);
        if (status != 0) {
            ex.end(state, status, note);
        }
        onEnd.run();
    }
}
