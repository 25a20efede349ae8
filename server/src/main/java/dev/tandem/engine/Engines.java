package dev.tandem.engine;

import dev.tandem.model.Model;
import dev.tandem.tokenizer.ChatTemplate;
import dev.tandem.tokenizer.Tokenizer;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.ArrayList;
import java.util.List;

/** Builds the engine a {@code --mode} names: the one place the server constructs an engine. */
public final class Engines {
    private Engines() {}

    /**
     * @param template the chat template the front end renders with, or null
     * @param split    used by {@link EngineMode#SPLIT} only (null there means {@link SplitConfig#defaults()})
     * @throws IllegalArgumentException when the configuration does not fit the model
     */
    /**
     * {@code n = sinks.size()} choices of one request; choice {@code i} samples with seed
     * {@code seed + i} into {@code sinks.get(i)}. The split engine prefills the prompt once and
     * shares its KV pages ({@link SplitEngine#submit(GenerationRequest, List)}); any other engine
     * gets n independent requests. The handle cancels every choice.
     *
     * @throws EngineException.Rejected when the choices cannot all be accepted: none runs (with an
     *         engine other than the split one, choices already queued end as CANCELLED on their sinks)
     */
    public static RequestHandle submit(Engine engine, GenerationRequest request, List<TokenSink> sinks) {
        if (engine instanceof SplitEngine split) {
            return split.submit(request, sinks);
        }
        List<RequestHandle> handles = new ArrayList<>();
        try {
            for (int i = 0; i < sinks.size(); i++) {
                GenerationRequest ri = i == 0 ? request : new GenerationRequest(request.promptTokens(),
                        request.sampling().withSeed(request.sampling().seed() + i), request.maxTokens(), request.stop(),
                        request.ignoreEos(), request.logprobs(), request.topLogprobs());
                handles.add(engine.submit(ri, sinks.get(i)));
            }
        } catch (EngineException.Rejected e) {
            handles.forEach(RequestHandle::cancel); // their sinks hear CANCELLED
            throw e;
        }
        return () -> handles.forEach(RequestHandle::cancel);
    }

    /** The live picture of an engine made here ({@code GET /v1/engine}). */
    public static EngineStatus status(Engine engine) {
        return switch (engine) {
            case SplitEngine s -> s.status();
            case ColocatedEngine c -> c.status();
            default -> throw new IllegalArgumentException("not an engine of this package: " + engine.getClass().getName());
        };
    }

    public static Engine create(EngineMode mode, Model model, Tokenizer tokenizer, ChatTemplate template,
                                EngineConfig config, SplitConfig split, MeterRegistry registry) {
        return switch (mode) {
            case COLOCATED -> new ColocatedEngine(model, tokenizer, template, config, registry);
            case SPLIT -> new SplitEngine(model, tokenizer, template, config,
                    split == null ? SplitConfig.defaults() : split, registry);
        };
    }
}
