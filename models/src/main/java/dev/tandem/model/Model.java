package dev.tandem.model;

import dev.tandem.gguf.GgufFile;

import java.nio.file.Path;

/** A loaded model: its file (kept mapped), configuration and weights. Immutable and shareable across threads. */
public final class Model implements AutoCloseable {
    private final GgufFile file;
    private final ModelConfig config;
    private final Weights weights;

    private Model(GgufFile file, ModelConfig config, Weights weights) {
        this.file = file;
        this.config = config;
        this.weights = weights;
    }

    /** Opens a GGUF model; any problem is a one-line {@link dev.tandem.gguf.GgufException}. */
    public static Model load(Path path) {
        GgufFile f = GgufFile.open(path);
        try {
            ModelConfig c = ModelConfig.from(f);
            return new Model(f, c, Weights.load(f, c));
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    public GgufFile file() {
        return file;
    }

    public ModelConfig config() {
        return config;
    }

    public Weights weights() {
        return weights;
    }

    @Override
    public void close() {
        file.close();
    }
}
