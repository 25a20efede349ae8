package dev.tandem.engine;

/** Which engine serves ({@code --mode}). */
public enum EngineMode {
    /** Prefill pool → KV migration → pinned decode worker ({@link SplitEngine}); the default. */
    SPLIT,
    /** One pool interleaving prefill chunks and decode steps, the llama.cpp-server way ({@link ColocatedEngine}). */
    COLOCATED
}
