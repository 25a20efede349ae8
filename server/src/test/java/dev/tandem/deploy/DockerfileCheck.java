package dev.tandem.deploy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What docker/Dockerfile must do, read instruction by instruction: a JDK 25 build stage, a JRE 25 runtime
 * stage that gets the jar from it, a non-root USER, a HEALTHCHECK on /health, EXPOSE of the HTTP and KV
 * ports, a VOLUME for the model, and an exec-form ENTRYPOINT running java with the Vector API module.
 * Returns readable problems, each naming the line.
 */
final class DockerfileCheck {
    /** One instruction: its first line, keyword (upper case) and arguments (continuations joined, comments dropped). */
    record Instruction(int line, String keyword, String args, int stage) {
        @Override
        public String toString() {
            return "line " + line + ": " + keyword + " " + args;
        }
    }

    static final Pattern FROM = Pattern.compile("(?i)(?:--platform=\\S+\\s+)?(\\S+)(?:\\s+AS\\s+(\\S+))?");
    static final Pattern JDK25 = Pattern.compile(".*:25([.0-9_+]*)?-jdk.*");
    static final Pattern JRE25 = Pattern.compile(".*:25([.0-9_+]*)?-jre.*");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Instruction> all;
    private final Path root;
    private final List<String> problems = new ArrayList<>();
    private String buildStage; // the name of the JDK 25 stage, once found

    private DockerfileCheck(List<Instruction> all, Path root) {
        this.all = all;
        this.root = root;
    }

    /** {@code root}: the build context (the repository root), where COPY sources are looked up. */
    static List<String> check(String dockerfile, Path root) {
        DockerfileCheck c = new DockerfileCheck(parse(dockerfile), root);
        c.run();
        return c.problems;
    }

    static List<Instruction> parse(String text) {
        List<Instruction> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        int stage = -1;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int first = i + 1;
            StringBuilder sb = new StringBuilder();
            while (line.endsWith("\\") && i + 1 < lines.length) {
                sb.append(line, 0, line.length() - 1).append(' ');
                do {
                    line = lines[++i].strip();
                } while (line.startsWith("#") && i + 1 < lines.length); // comment lines inside a continuation are dropped
            }
            sb.append(line);
            String joined = sb.toString().strip();
            int sp = joined.indexOf(' ');
            String keyword = (sp < 0 ? joined : joined.substring(0, sp)).toUpperCase();
            String args = sp < 0 ? "" : joined.substring(sp + 1).strip();
            if (keyword.equals("FROM")) {
                stage++;
            }
            out.add(new Instruction(first, keyword, args, stage));
        }
        return out;
    }

    private void problem(String s) {
        problems.add(s);
    }

    private void run() {
        List<Instruction> froms = of("FROM", -2);
        if (froms.size() < 2) {
            problem("Dockerfile: needs a build stage and a runtime stage, found " + froms.size() + " FROM");
            return;
        }
        int last = froms.getLast().stage();
        int buildIdx = -1;
        for (Instruction f : froms.subList(0, froms.size() - 1)) {
            Matcher m = FROM.matcher(f.args());
            if (m.matches() && m.group(2) != null && JDK25.matcher(m.group(1)).matches()) {
                buildStage = m.group(2);
                buildIdx = f.stage();
            }
        }
        if (buildStage == null) {
            problem("Dockerfile: no named build stage FROM a JDK 25 image (e.g. eclipse-temurin:25-jdk AS build)");
        } else {
            if (of("RUN", buildIdx).stream().noneMatch(r -> r.args().contains("mvnw") && r.args().contains("package"))) {
                problem("Dockerfile: the build stage runs no './mvnw ... package'");
            }
            if (of("RUN", buildIdx).stream().noneMatch(r -> r.args().contains("server/target/tandem.jar"))) {
                problem("Dockerfile: the build stage never takes server/target/tandem.jar");
            }
        }
        Matcher runtime = FROM.matcher(froms.getLast().args());
        if (!runtime.matches() || !JRE25.matcher(runtime.group(1)).matches()) {
            problem(froms.getLast() + ": the runtime stage must be a JRE 25 image (e.g. eclipse-temurin:25-jre)");
        }
        List<String> jarDestinations = new ArrayList<>();
        for (Instruction c : of("COPY", last)) {
            List<String> words = new ArrayList<>(Arrays.asList(c.args().split("\\s+")));
            boolean fromStage = words.stream().anyMatch(w -> w.equals("--from=" + buildStage));
            words.removeIf(w -> w.startsWith("--"));
            if (fromStage) {
                jarDestinations.add(words.getLast());
            }
        }
        for (Instruction c : all) {
            if (c.keyword().equals("COPY") && !c.args().contains("--from=")) {
                List<String> words = new ArrayList<>(Arrays.asList(c.args().split("\\s+")));
                words.removeIf(w -> w.startsWith("--"));
                for (String src : words.subList(0, words.size() - 1)) {
                    if (!Files.exists(root.resolve(src))) {
                        problem(c + ": COPY source " + src + " does not exist in the build context");
                    } else if (src.contains("target")) {
                        problem(c + ": COPY of a build output (" + src + "); build it in the build stage instead");
                    }
                }
            }
        }
        user(last);
        entrypoint(last, jarDestinations);
        healthcheck(last);
        List<String> exposed = of("EXPOSE", last).stream().flatMap(e -> Arrays.stream(e.args().split("\\s+"))).toList();
        for (String p : List.of("8080", "9090")) {
            if (!exposed.contains(p) && !exposed.contains(p + "/tcp")) {
                problem("Dockerfile: the runtime stage does not EXPOSE " + p + " (8080 HTTP, 9090 KV transfer), only " + exposed);
            }
        }
        List<String> volumes = new ArrayList<>();
        of("VOLUME", last).forEach(v -> volumes.addAll(words(v)));
        if (!volumes.contains("/models")) {
            problem("Dockerfile: no VOLUME /models for the model files, only " + volumes);
        }
        List<Instruction> cmds = of("CMD", last);
        if (!cmds.isEmpty()) {
            List<String> cmd = execForm(cmds.getLast());
            problems.addAll(ServeFlags.check(cmd, "Dockerfile " + cmds.getLast()));
            if (!DeployFiles.value(cmd, "--model", "").startsWith("/models/")) {
                problem(cmds.getLast() + ": the default --model should be a file in the /models volume");
            }
        }
        if (of("ENV", last).stream().noneMatch(e -> e.args().startsWith("TANDEM_CACHE="))) {
            problem("Dockerfile: set ENV TANDEM_CACHE to a directory the user can write (where --model demo is made)");
        }
    }

    private void user(int stage) {
        List<Instruction> users = of("USER", stage);
        if (users.isEmpty()) {
            problem("Dockerfile: the runtime stage sets no USER (it would run as root)");
            return;
        }
        String user = users.getLast().args().split(":")[0];
        if (user.equals("root") || user.equals("0")) {
            problem(users.getLast() + ": the runtime user must not be root");
        }
    }

    private void entrypoint(int stage, List<String> jarDestinations) {
        List<Instruction> eps = of("ENTRYPOINT", stage);
        if (eps.isEmpty()) {
            problem("Dockerfile: the runtime stage has no ENTRYPOINT");
            return;
        }
        List<String> ep = execForm(eps.getLast());
        String where = eps.getLast().toString();
        if (ep.isEmpty()) {
            return;
        }
        if (!ep.getFirst().equals("java") && !ep.getFirst().endsWith("/java")) {
            problem(where + ": must run java, not " + ep.getFirst());
        }
        int am = ep.indexOf("--add-modules");
        if (!(am >= 0 && am + 1 < ep.size() && ep.get(am + 1).equals("jdk.incubator.vector")) && !ep.contains("--add-modules=jdk.incubator.vector")) {
            problem(where + ": needs --add-modules jdk.incubator.vector (the Vector API)");
        }
        if (!ep.contains("--enable-native-access=ALL-UNNAMED")) {
            problem(where + ": needs --enable-native-access=ALL-UNNAMED (FFM maps the weights)");
        }
        int jar = ep.indexOf("-jar");
        if (jar < 0 || jar + 1 >= ep.size()) {
            problem(where + ": needs -jar <the tandem jar>");
        } else if (jarDestinations.stream().noneMatch(d -> d.equals(ep.get(jar + 1)) || (d.endsWith("/") && ep.get(jar + 1).startsWith(d)))) {
            problem(where + ": -jar " + ep.get(jar + 1) + " is not where COPY --from=" + buildStage + " put the jar " + jarDestinations);
        }
    }

    private void healthcheck(int stage) {
        List<Instruction> hcs = of("HEALTHCHECK", stage);
        if (hcs.isEmpty()) {
            problem("Dockerfile: the runtime stage has no HEALTHCHECK");
            return;
        }
        Instruction hc = hcs.getLast();
        int cmd = hc.args().indexOf("CMD ");
        if (cmd < 0) {
            problem(hc + ": HEALTHCHECK needs a CMD");
            return;
        }
        String command = hc.args().substring(cmd + 4).strip();
        if (command.contains("/health")) {
            return;
        }
        // A script: the COPY that installed it must bring a file asking for /health.
        List<String> argv = command.startsWith("[") ? execForm(new Instruction(hc.line(), "CMD", command, stage)) : List.of(command.split("\\s+"));
        for (Instruction c : of("COPY", stage)) {
            List<String> words = new ArrayList<>(Arrays.asList(c.args().split("\\s+")));
            words.removeIf(w -> w.startsWith("--"));
            if (words.size() == 2 && argv.contains(words.get(1)) && Files.isRegularFile(root.resolve(words.get(0)))
                    && DeployFiles.text(root.resolve(words.get(0))).contains("GET /health ")) {
                return;
            }
        }
        problem(hc + ": the health check neither requests /health nor runs a copied script that does");
    }

    /** The JSON array of an exec-form instruction, or a problem and an empty list. */
    private List<String> execForm(Instruction in) {
        try {
            String[] a = JSON.readValue(in.args(), String[].class);
            return List.of(a);
        } catch (JsonProcessingException e) {
            problem(in + ": use the exec form, a JSON array (the shell form would not pass SIGTERM to java)");
            return List.of();
        }
    }

    private List<String> words(Instruction in) {
        return in.args().startsWith("[") ? execForm(in) : List.of(in.args().split("\\s+"));
    }

    /** Instructions with this keyword in {@code stage} (-2: every stage). */
    private List<Instruction> of(String keyword, int stage) {
        return all.stream().filter(i -> i.keyword().equals(keyword) && (stage == -2 || i.stage() == stage)).toList();
    }
}
