package dev.tandem.engine;

import dev.tandem.model.Model;
import dev.tandem.tokenizer.ChatTemplate;
import dev.tandem.tokenizer.Tokenizer;
import io.micrometer.core.instrument.MeterRegistry;

/** Builds the engine a {@code --mode} names: the one place the server constructs an engine. */
public final class Engines {
    private Engines() {}

    /**
     * @param template the chat template the front end renders with, or null
     * @param split    used by {@link EngineMode#SPLIT} only (null there means {@link SplitConfig#defaults()})
     * @throws IllegalArgumentException when the configuration does not fit the model
     */
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
