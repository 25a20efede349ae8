package dev.tandem.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code tandem} command line. Subcommands live in their own classes; this class checks the
 * runtime, wires picocli and turns errors into one-line messages (a stack trace only with
 * {@code TANDEM_DEBUG=1}).
 */
@Command(name = "tandem",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "CPU inference server for GGUF language models: batched prefill, pinned decode.",
        subcommands = {GenerateCommand.class, ServeCommand.class, BenchCommand.class, InspectCommand.class, MakeModelCommand.class,
                TemplateCommand.class, TokenizeCommand.class, DetokenizeCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            System.err.println("tandem: the JVM was started without the Vector API; run it through bin/tandem "
                    + "(or java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar tandem.jar)");
            System.exit(2);
        }
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (0 ok, 1 failed, 2 usage). */
    public static int run(String... args) {
        return run(new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(System.err, true), args);
    }

    /** Runs the command line writing to the given streams (tests capture them). */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("tandem: " + Errors.oneLine(e));
            if (System.getenv("TANDEM_DEBUG") != null) {
                e.printStackTrace(commandLine.getErr());
            }
            return 1;
        });
        return cli.execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"tandem " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
