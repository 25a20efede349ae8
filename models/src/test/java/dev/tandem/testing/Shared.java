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
        if (root == null) {
            warnOnce();
        }
        Assumptions.assumeTrue(root != null, REASON);
        return root.resolve("models");
    }

    private static final String REASON = "skipped: ../shared/models (reference models) is not beside the project; see README";
    private static volatile boolean warned;

    /** Says once per test JVM, on the console, why tests are being skipped (assumption messages only reach the reports). */
    private static void warnOnce() {
        if (!warned) {
            warned = true;
            System.err.println("[tandem tests] " + REASON + " — tests that need it are SKIPPED");
        }
    }

    /** A file under {@code shared/models}, or skips the test when it is absent. */
    public static Path model(String relative) {
        Path p = models().resolve(relative);
        if (!Files.exists(p)) {
            System.err.println("[tandem tests] skipped: " + p + " is absent");
        }
        Assumptions.assumeTrue(Files.exists(p), "skipped: " + p + " is absent");
        return p;
    }
}
