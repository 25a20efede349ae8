package dev.tandem.cli;

/** Placeholder replaced by the picocli entry point. */
public final class Main {
    public static void main(String[] args) {
    }
}
