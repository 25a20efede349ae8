package dev.tandem.cli;

import dev.tandem.kernels.GgmlType;
import dev.tandem.model.ModelMaker;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Resolves a {@code --model} argument: a GGUF path, or {@code demo} (made once, then cached). */
final class ModelPaths {
    /** The demo model: Llama-shaped, random weights, the built-in byte-level vocabulary. Bump the name when the spec changes. */
    static final String DEMO_NAME = "demo-llama-256x4-q8_0-v1.gguf";
    static final ModelMaker.Spec DEMO = new ModelMaker.Spec("llama", 256, 4, 8, 4, 768, 0, GgmlType.Q8_0, 1L,
            null, 0, 2048, false);

    private ModelPaths() {}

    static boolean isDemo(String model) {
        return "demo".equals(model);
    }

    static Path resolve(String model, PrintWriter err) {
        if (!isDemo(model)) {
            return Path.of(model);
        }
        Path file = cacheDir().resolve(DEMO_NAME);
        if (Files.isRegularFile(file)) {
            return file;
        }
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), "demo", ".partial");
            try {
                err.println("tandem: making the demo model (random weights) at " + file);
                err.flush();
                ModelMaker.make(DEMO, tmp);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the demo model in " + file.getParent() + ": " + e.getMessage(), e);
        }
        return file;
    }

    /** {@code -Dtandem.cache}, else {@code $TANDEM_CACHE}, else {@code $XDG_CACHE_HOME/tandem}, else {@code ~/.cache/tandem}. */
    static Path cacheDir() {
        String p = System.getProperty("tandem.cache");
        if (p == null || p.isBlank()) {
            p = System.getenv("TANDEM_CACHE");
        }
        if (p != null && !p.isBlank()) {
            return Path.of(p);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "tandem");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "tandem");
    }
}
