package dev.tandem.deploy;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.tandem.deploy.DeployFiles.fields;
import static dev.tandem.deploy.DeployFiles.str;
import static dev.tandem.deploy.DeployFiles.strings;
import static dev.tandem.deploy.DeployFiles.value;
import static dev.tandem.deploy.DeployFiles.values;

/**
 * The structure docker/compose.yaml must have (the parts of the Compose specification it uses, and how
 * tandem's roles must be wired), and that docker/prometheus.yml scrapes every tandem process. Returns
 * readable problems, each naming the service and field; none means the files pass.
 */
final class ComposeCheck {
    /** "[ip:]host:container[/proto]", as Compose's short port syntax; a quoted string, never a YAML number. */
    static final Pattern PORT = Pattern.compile("(?:(\\d{1,3}(?:\\.\\d{1,3}){3}):)?(\\d{1,5}):(\\d{1,5})(?:/(tcp|udp))?");
    static final Pattern DURATION = Pattern.compile("(\\d+(ns|us|ms|s|m|h))+");
    static final Set<String> CONDITIONS = Set.of("service_started", "service_healthy", "service_completed_successfully");
    static final Pattern HOST_PORT = Pattern.compile("([a-z0-9][a-z0-9_.-]*):(\\d{1,5})");

    private final JsonNode compose;
    private final JsonNode prometheus;
    private final Path dir;
    private final List<String> problems = new ArrayList<>();
    /** Tandem services (the image built from docker/Dockerfile) → their serve arguments. */
    private final Map<String, List<String>> tandem = new LinkedHashMap<>();

    private ComposeCheck(JsonNode compose, JsonNode prometheus, Path dir) {
        this.compose = compose;
        this.prometheus = prometheus;
        this.dir = dir;
    }

    /** {@code dir}: the directory of compose.yaml (relative paths in it resolve there). */
    static List<String> check(JsonNode compose, JsonNode prometheus, Path dir) {
        ComposeCheck c = new ComposeCheck(compose, prometheus, dir);
        c.run();
        return c.problems;
    }

    private void problem(String s) {
        problems.add(s);
    }

    private void run() {
        JsonNode services = compose.get("services");
        if (services == null || !services.isObject() || services.isEmpty()) {
            problem("compose: 'services' must be a non-empty map");
            return;
        }
        for (var e : fields(services)) {
            service(e.getKey(), e.getValue());
        }
        roles();
        scrapes();
    }

    private void service(String name, JsonNode s) {
        String where = "compose service '" + name + "'";
        JsonNode build = s.get("build");
        String image = str(s, "image");
        if (image == null && build == null) {
            problem(where + ": needs 'image' or 'build'");
        }
        if (build != null) {
            String context = build.isTextual() ? build.asText() : str(build, "context");
            String dockerfile = build.isObject() && str(build, "dockerfile") != null ? str(build, "dockerfile") : "Dockerfile";
            if (context == null) {
                problem(where + ": build needs a context");
            } else if (!Files.isRegularFile(dir.resolve(context).resolve(dockerfile))) {
                problem(where + ": build file " + dir.resolve(context).resolve(dockerfile).normalize() + " does not exist");
            }
        }
        for (JsonNode p : iter(s.get("ports"))) {
            Matcher m = PORT.matcher(p.asText());
            if (!p.isTextual()) {
                problem(where + ": port " + p + " must be a quoted \"host:container\" string (YAML reads 80:80 unquoted as a number in base 60)");
            } else if (!m.matches() || !inRange(m.group(2)) || !inRange(m.group(3))) {
                problem(where + ": port '" + p.asText() + "' is not \"[ip:]host:container\"");
            }
        }
        for (JsonNode p : iter(s.get("expose"))) {
            if (!p.isTextual() || !p.asText().matches("\\d{1,5}") || !inRange(p.asText())) {
                problem(where + ": expose entry " + p + " must be a quoted port number");
            }
        }
        JsonNode hc = s.get("healthcheck");
        if (hc != null) {
            healthcheck(where, hc);
        }
        dependsOn(where, s.get("depends_on"));
        volumes(where, s.get("volumes"));
        boolean ours = s.has("build") || (image != null && image.startsWith("tandem"));
        if (ours) {
            JsonNode cmd = s.get("command");
            if (cmd == null || !cmd.isArray()) {
                problem(where + ": 'command' must be a list (exec form), starting with serve");
            } else {
                List<String> args = strings(cmd);
                problems.addAll(ServeFlags.check(args, where));
                tandem.put(name, args);
            }
        }
    }

    private void healthcheck(String where, JsonNode hc) {
        JsonNode test = hc.get("test");
        if (test == null || !test.isArray() || test.isEmpty()) {
            problem(where + ": healthcheck.test must be a non-empty list such as [\"CMD\", ...]");
        } else if (!Set.of("CMD", "CMD-SHELL", "NONE").contains(test.get(0).asText())) {
            problem(where + ": healthcheck.test must start with CMD, CMD-SHELL or NONE, not " + test.get(0));
        } else if (!test.get(0).asText().equals("NONE") && test.size() < 2) {
            problem(where + ": healthcheck.test names no command");
        }
        for (String f : List.of("interval", "timeout", "start_period")) {
            String v = str(hc, f);
            if (hc.has(f) && (v == null || !DURATION.matcher(v).matches())) {
                problem(where + ": healthcheck." + f + " '" + hc.get(f).asText() + "' is not a duration like 5s or 1m30s");
            }
        }
        if (hc.has("retries") && !(hc.get("retries").isInt() && hc.get("retries").asInt() >= 1)) {
            problem(where + ": healthcheck.retries must be a positive integer");
        }
    }

    private void dependsOn(String where, JsonNode deps) {
        if (deps == null) {
            return;
        }
        JsonNode services = compose.get("services");
        if (deps.isArray()) {
            for (JsonNode d : deps) {
                if (!services.has(d.asText())) {
                    problem(where + ": depends_on names no service '" + d.asText() + "'");
                }
            }
            return;
        }
        for (var e : fields(deps)) {
            JsonNode target = services.get(e.getKey());
            String condition = str(e.getValue(), "condition");
            if (target == null) {
                problem(where + ": depends_on names no service '" + e.getKey() + "'");
            } else if (condition == null || !CONDITIONS.contains(condition)) {
                problem(where + ": depends_on." + e.getKey() + ".condition must be one of " + CONDITIONS + ", not " + condition);
            } else if (condition.equals("service_healthy") && !target.has("healthcheck")) {
                problem(where + ": waits for '" + e.getKey() + "' to be healthy, but that service declares no healthcheck");
            }
        }
    }

    private void volumes(String where, JsonNode vols) {
        JsonNode declared = compose.get("volumes");
        for (JsonNode v : iter(vols)) {
            if (!v.isTextual()) {
                problem(where + ": volume " + v + " must be \"source:target[:mode]\"");
                continue;
            }
            String[] parts = v.asText().split(":");
            if (parts.length < 2 || parts.length > 3 || !parts[1].startsWith("/")) {
                problem(where + ": volume '" + v.asText() + "' is not \"source:/target[:mode]\"");
                continue;
            }
            String source = parts[0];
            if (source.startsWith(".") || source.startsWith("/") || source.startsWith("~") || source.startsWith("$")) {
                if (source.startsWith(".") && !Files.exists(dir.resolve(source))) {
                    problem(where + ": bind mount source " + dir.resolve(source).normalize() + " does not exist");
                }
            } else if (declared == null || !declared.has(source)) {
                problem(where + ": named volume '" + source + "' is not declared under the top-level 'volumes'");
            }
        }
    }

    /** One router, at least one prefill and one decode node; the router's nodes exist, with those roles and ports. */
    private void roles() {
        Map<String, List<String>> byRole = new HashMap<>();
        tandem.forEach((name, args) -> byRole.computeIfAbsent(value(args, "--role", "all"), r -> new ArrayList<>()).add(name));
        for (String role : List.of("router", "prefill", "decode")) {
            if (!byRole.containsKey(role)) {
                problem("compose: no tandem service with --role " + role);
            }
        }
        tandem.forEach((name, args) -> {
            String where = "compose service '" + name + "'";
            String role = value(args, "--role", "all");
            String port = value(args, "--port", "8080");
            if (!"0.0.0.0".equals(value(args, "--host", "127.0.0.1"))) {
                problem(where + ": needs --host 0.0.0.0 (the default, loopback, is unreachable from other containers)");
            }
            JsonNode s = compose.get("services").get(name);
            List<String> test = strings(s.path("healthcheck").get("test"));
            if (test.isEmpty()) {
                problem(where + ": declares no healthcheck (depends_on service_healthy and restarts need one)");
            } else if (test.size() > 2 && !test.getLast().equals(port)) {
                problem(where + ": healthcheck probes port " + test.getLast() + " but --port is " + port);
            }
            if (role.equals("prefill") || role.equals("decode")) {
                List<String> exposed = strings(s.get("expose"));
                String kv = value(args, "--kv-port", "9090");
                for (String p : List.of(port, kv)) {
                    if (!exposed.contains(p)) {
                        problem(where + ": port " + p + " is not in 'expose' " + exposed);
                    }
                }
            }
            if (role.equals("router")) {
                for (String nodeRole : List.of("prefill", "decode")) {
                    List<String> targets = values(args, "--" + nodeRole);
                    if (targets.isEmpty()) {
                        problem(where + ": the router lists no --" + nodeRole + " node");
                    }
                    for (String t : targets) {
                        routerTarget(name, nodeRole, t);
                    }
                }
            }
        });
    }

    private void routerTarget(String router, String nodeRole, String target) {
        String where = "compose service '" + router + "'";
        Matcher m = HOST_PORT.matcher(target);
        if (!m.matches()) {
            problem(where + ": --" + nodeRole + " " + target + " is not host:port");
            return;
        }
        List<String> node = tandem.get(m.group(1));
        if (node == null) {
            problem(where + ": --" + nodeRole + " " + target + " names no tandem service '" + m.group(1) + "'");
        } else if (!value(node, "--role", "all").equals(nodeRole)) {
            problem(where + ": --" + nodeRole + " " + target + " points at a service with --role " + value(node, "--role", "all"));
        } else if (!value(node, "--port", "8080").equals(m.group(2))) {
            problem(where + ": --" + nodeRole + " " + target + " but '" + m.group(1) + "' serves HTTP on --port " + value(node, "--port", "8080"));
        }
        String condition = compose.path("services").path(router).path("depends_on").path(m.group(1)).path("condition").asText();
        if (!condition.equals("service_healthy")) {
            problem(where + ": should depend on '" + m.group(1) + "' with condition service_healthy");
        }
    }

    /** Every tandem service is scraped at host:--port; every target is a tandem service. */
    private void scrapes() {
        if (prometheus == null) {
            return;
        }
        Map<String, String> scraped = new HashMap<>(); // host -> port
        for (JsonNode job : iter(prometheus.get("scrape_configs"))) {
            String path = job.has("metrics_path") ? str(job, "metrics_path") : "/metrics";
            if (!"/metrics".equals(path)) {
                problem("prometheus job '" + str(job, "job_name") + "': metrics_path must be /metrics, not " + path);
            }
            for (JsonNode sc : iter(job.get("static_configs"))) {
                for (String t : strings(sc.get("targets"))) {
                    Matcher m = HOST_PORT.matcher(t);
                    if (!m.matches()) {
                        problem("prometheus target '" + t + "' is not host:port");
                    } else {
                        scraped.put(m.group(1), m.group(2));
                    }
                }
            }
        }
        tandem.forEach((name, args) -> {
            String port = value(args, "--port", "8080");
            if (!scraped.containsKey(name)) {
                problem("prometheus: tandem service '" + name + "' is not scraped");
            } else if (!scraped.get(name).equals(port)) {
                problem("prometheus: scrapes " + name + ":" + scraped.get(name) + " but its --port is " + port);
            }
        });
        scraped.keySet().stream().filter(h -> !tandem.containsKey(h))
                .forEach(h -> problem("prometheus: target host '" + h + "' is no tandem service of the compose file"));
        boolean mounted = false;
        for (var e : fields(compose.get("services"))) {
            for (String v : strings(e.getValue().get("volumes"))) {
                mounted |= v.startsWith("./prometheus.yml:");
            }
        }
        if (!mounted) {
            problem("compose: no service mounts ./prometheus.yml");
        }
    }

    private static boolean inRange(String port) {
        int p = Integer.parseInt(port);
        return p >= 1 && p <= 65535;
    }

    private static Iterable<JsonNode> iter(JsonNode array) {
        return array != null && array.isArray() ? array : List.of();
    }
}
