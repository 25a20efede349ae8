package dev.tandem.cli;

/**
 * The jar's entry point, compiled for Java 8 so that an old JVM reads it and says clearly what
 * it needs, instead of failing to load {@link Main} with a class-version error.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Throwable {
        String spec = System.getProperty("java.specification.version", "0");
        int major;
        try {
            major = Integer.parseInt(spec.startsWith("1.") ? spec.substring(2) : spec.split("\\.")[0]);
        } catch (NumberFormatException e) {
            major = 0;
        }
        if (major < 25) {
            System.err.println("tandem: needs Java 25 or newer (this is Java " + spec + " at "
                    + System.getProperty("java.home") + "); run it through bin/tandem, which finds a JDK 25");
            System.exit(2);
        }
        try {
            Class.forName("dev.tandem.cli.Main").getMethod("main", String[].class).invoke(null, (Object) args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
