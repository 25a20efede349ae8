package dev.tandem.deploy;

import dev.tandem.cli.Main;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.List;

/**
 * The options of {@code tandem serve}, read from picocli's model of the real command line, and a check of
 * a container's argument list against them: every flag exists, and the whole list parses.
 */
final class ServeFlags {
    /** tandem's command line, built once (~30 ms); picocli resets every option to its initial value on each parse. */
    private static final CommandLine TANDEM = new CommandLine(new Main());

    private ServeFlags() {}

    /** The serve subcommand as registered in {@link Main}. */
    static CommandSpec serveSpec() {
        CommandLine serve = TANDEM.getSubcommands().get("serve");
        if (serve == null) {
            throw new IllegalStateException("tandem has no 'serve' subcommand");
        }
        return serve.getCommandSpec();
    }

    /** Whether {@code serve} has an option of this name. */
    static boolean known(String name) {
        return serveSpec().findOption(name) != null;
    }

    /**
     * Problems with {@code args} (a container's command: "serve", then options), each naming {@code where}:
     * not starting with serve, unknown flags, and whatever picocli rejects when it parses the list
     * (missing values, non-numbers, a missing --model).
     */
    static List<String> check(List<String> args, String where) {
        List<String> problems = new ArrayList<>();
        if (args.isEmpty() || !args.getFirst().equals("serve")) {
            problems.add(where + ": the command must start with 'serve', not " + args);
            return problems;
        }
        CommandSpec spec = serveSpec();
        List<String> parsable = new ArrayList<>();
        for (int i = 1; i < args.size(); i++) {
            String a = args.get(i);
            String name = a.startsWith("--") && a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (!name.startsWith("-")) {
                parsable.add(a);
                continue;
            }
            OptionSpec opt = spec.findOption(name);
            if (opt != null) {
                parsable.add(a);
            } else {
                problems.add(where + ": 'tandem serve' has no option " + name);
            }
        }
        if (problems.isEmpty()) {
            try {
                parse(prepend("serve", parsable));
            } catch (CommandLine.ParameterException e) {
                problems.add(where + ": tandem serve rejects " + args.subList(1, args.size()) + ": " + e.getMessage());
            }
        }
        return problems;
    }

    private static synchronized void parse(String[] args) {
        TANDEM.parseArgs(args);
    }

    private static String[] prepend(String first, List<String> rest) {
        String[] out = new String[rest.size() + 1];
        out[0] = first;
        for (int i = 0; i < rest.size(); i++) {
            out[i + 1] = rest.get(i);
        }
        return out;
    }
}
