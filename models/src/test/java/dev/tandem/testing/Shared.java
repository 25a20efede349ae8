package dev.tandem.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates {@code ../shared} (reference models, vocabularies, templates) beside the project.
 * Tests that need it call {@link #models()} and are skipped, with the reason shown, when it is absent.
 */
public final class Shared {
    private Shared() {}

    /** The shared folder, or null when absent. */
    public static Path rootOrNull() {
        String prop = System.getProperty("tandem.shared");
        Path p = prop != null ? Path.of(prop) : Path.of("..", "shared");
        if (Files.isDirectory(p.resolve("models"))) {
            return p.toAbsolutePath().normalize();
        }
        Path up = Path.of("..", "..", "shared"); // running from a module directory
        return Files.isDirectory(up.resolve("models")) ? up.toAbsolutePath().normalize() : null;
    }

    /** {@code shared/models}, or skips the calling test with a visible reason. */
    public static Path models() {
        Path root = rootOrNull();
        Assumptions.assumeTrue(root != null,
                "skipped: ../shared/models (reference models) is not beside the project; see README");
        return root.resolve("models");
    }

    /** A file under {@code shared/models}, or skips the test when it is absent. */
    public static Path model(String relative) {
        Path p = models().resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), "skipped: " + p + " is absent");
        return p;
    }
}
