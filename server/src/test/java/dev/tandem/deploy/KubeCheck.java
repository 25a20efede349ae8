package dev.tandem.deploy;

import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
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
 * The schema docker/k8s/*.yaml must meet, per kind (the fields of the Kubernetes API objects they use),
 * and how tandem's roles must be wired: probes on /health at a declared port, Services that select a
 * Deployment's pods, headless Services for the router's DNS discovery, Guaranteed QoS with whole CPUs for
 * pods labelled {@value #PINNED}. Returns readable problems, each naming file, kind and name.
 */
final class KubeCheck {
    /** The pod label that asks for exclusive cores (static CPU manager policy). */
    static final String PINNED = "tandem.dev/cpu-pinned";
    static final Map<String, String> API_VERSIONS = Map.of("Namespace", "v1", "ConfigMap", "v1", "Secret", "v1",
            "Service", "v1", "Deployment", "apps/v1");
    static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    static final Pattern QUANTITY = Pattern.compile("(\\d+(?:\\.\\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?");
    static final Pattern ENV_REF = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");
    static final Pattern NAME_PORT = Pattern.compile("([a-z0-9][a-z0-9.-]*):(\\d{1,5})");

    /** One object and the file it came from. */
    record Obj(String file, JsonNode node) {
        String kind() {
            return str(node, "kind");
        }

        String name() {
            return str(node.path("metadata"), "name");
        }

        String namespace() {
            return str(node.path("metadata"), "namespace");
        }

        String where() {
            return file + ": " + kind() + " " + name();
        }
    }

    private final List<Obj> objects;
    private final List<String> problems = new ArrayList<>();

    private KubeCheck(List<Obj> objects) {
        this.objects = objects;
    }

    /** {@code files}: file name → its YAML documents, in the order kubectl applies them (by name). */
    static List<String> check(Map<String, List<JsonNode>> files) {
        List<Obj> objs = new ArrayList<>();
        files.forEach((f, docs) -> docs.forEach(d -> objs.add(new Obj(f, d))));
        KubeCheck c = new KubeCheck(objs);
        c.run();
        return c.problems;
    }

    private void problem(String s) {
        problems.add(s);
    }

    private void run() {
        Set<String> seen = new HashSet<>();
        boolean namespaceSeen = false;
        for (Obj o : objects) {
            String kind = o.kind();
            if (str(o.node, "apiVersion") == null || kind == null || o.name() == null) {
                problem(o.file + ": every object needs apiVersion, kind and metadata.name; found " + o.node.path("kind") + " "
                        + o.node.path("metadata").path("name"));
                continue;
            }
            if (!API_VERSIONS.containsKey(kind)) {
                problem(o.where() + ": kind " + kind + " is not one this check knows (" + API_VERSIONS.keySet() + ")");
                continue;
            }
            if (!API_VERSIONS.get(kind).equals(str(o.node, "apiVersion"))) {
                problem(o.where() + ": apiVersion must be " + API_VERSIONS.get(kind) + ", not " + str(o.node, "apiVersion"));
            }
            if (!DNS_LABEL.matcher(o.name()).matches()) {
                problem(o.where() + ": metadata.name must be a DNS label (lower case, digits, '-')");
            }
            if (!seen.add(kind + "/" + o.namespace() + "/" + o.name())) {
                problem(o.where() + ": defined twice");
            }
            if (kind.equals("Namespace")) {
                namespaceSeen = true;
            } else {
                namespaced(o, namespaceSeen);
            }
            switch (kind) {
                case "Deployment" -> deployment(o);
                case "Service" -> service(o);
                case "ConfigMap", "Secret" -> {
                    if (configData(o).isEmpty()) {
                        problem(o.where() + ": holds no data");
                    }
                }
                default -> { }
            }
        }
        for (String role : List.of("prefill", "decode", "router")) {
            if (byRole(role).isEmpty()) {
                problem("k8s: no Deployment runs --role " + role);
            }
        }
        for (String headless : List.of("tandem-prefill", "tandem-decode")) {
            Obj s = find("Service", headless);
            if (s == null) {
                problem("k8s: no Service " + headless);
            } else if (!"None".equals(str(s.node.path("spec"), "clusterIP"))) {
                problem(s.where() + ": must be headless (clusterIP: None) so its name resolves to every pod");
            }
        }
        for (Obj router : byRole("router")) {
            if (objects.stream().noneMatch(s -> "Service".equals(s.kind()) && selected(s).contains(router))) {
                problem(router.where() + ": no Service selects the router's pods");
            }
        }
    }

    private void namespaced(Obj o, boolean namespaceSeen) {
        String ns = o.namespace();
        Obj nsObj = ns == null ? null : find("Namespace", ns);
        if (ns == null) {
            problem(o.where() + ": metadata.namespace is not set (kubectl would use whatever namespace is current)");
        } else if (nsObj == null) {
            problem(o.where() + ": namespace " + ns + " is not defined in these manifests");
        } else if (!namespaceSeen) {
            problem(o.where() + ": comes before the Namespace " + ns + " in apply order (file names sort the order)");
        }
    }

    private void deployment(Obj o) {
        JsonNode spec = o.node.path("spec");
        JsonNode match = spec.path("selector").path("matchLabels");
        JsonNode labels = spec.path("template").path("metadata").path("labels");
        if (!match.isObject() || match.isEmpty()) {
            problem(o.where() + ": spec.selector.matchLabels must be a non-empty map");
        }
        for (var e : fields(match)) {
            if (!e.getValue().equals(labels.get(e.getKey()))) {
                problem(o.where() + ": selector " + e.getKey() + "=" + e.getValue().asText()
                        + " is not a label of the pod template " + labels);
            }
        }
        if (spec.has("replicas") && !(spec.get("replicas").isInt() && spec.get("replicas").asInt() >= 1)) {
            problem(o.where() + ": spec.replicas must be a positive integer");
        }
        JsonNode pod = spec.path("template").path("spec");
        JsonNode containers = pod.path("containers");
        if (!containers.isArray() || containers.isEmpty()) {
            problem(o.where() + ": the pod template has no containers");
            return;
        }
        boolean pinned = "true".equals(labels.path(PINNED).asText(null));
        boolean nonRoot = pod.path("securityContext").path("runAsNonRoot").asBoolean(false);
        Set<String> volumes = new HashSet<>();
        pod.path("volumes").forEach(v -> volumes.add(str(v, "name")));
        for (JsonNode c : containers) {
            String where = o.where() + " container " + str(c, "name");
            container(o, where, c, volumes);
            if (pinned) {
                guaranteed(where, c.path("resources"));
            }
            nonRoot |= c.path("securityContext").path("runAsNonRoot").asBoolean(false);
        }
        if (!nonRoot) {
            problem(o.where() + ": set securityContext.runAsNonRoot: true (the image runs as uid 10001)");
        }
        if (role(o).equals("decode") && !pinned) {
            problem(o.where() + ": decode pods must be labelled " + PINNED + ": \"true\" (exclusive cores for the decode worker)");
        }
    }

    private void container(Obj o, String where, JsonNode c, Set<String> volumes) {
        if (str(c, "name") == null || str(c, "image") == null || str(c, "image").isBlank()) {
            problem(where + ": needs a name and an image");
        }
        Map<String, Integer> ports = new LinkedHashMap<>(); // name (or "") -> containerPort
        for (JsonNode p : c.path("ports")) {
            JsonNode cp = p.get("containerPort");
            if (cp == null || !cp.isInt() || cp.asInt() < 1 || cp.asInt() > 65535) {
                problem(where + ": containerPort " + cp + " must be an integer 1-65535");
                continue;
            }
            String name = str(p, "name");
            if (name != null && (name.length() > 15 || !DNS_LABEL.matcher(name).matches())) {
                problem(where + ": port name '" + name + "' must be a DNS label of at most 15 characters");
            }
            if (ports.put(name == null ? "#" + cp.asInt() : name, cp.asInt()) != null) {
                problem(where + ": port name " + name + " declared twice");
            }
        }
        List<String> args = strings(c.get("args"));
        problems.addAll(ServeFlags.check(args, where));
        String httpPort = value(args, "--port", "8080");
        if (!"0.0.0.0".equals(value(args, "--host", "127.0.0.1"))) {
            problem(where + ": needs --host 0.0.0.0 (the default, loopback, is unreachable from the kubelet and other pods)");
        }
        if (!ports.containsValue(Integer.parseInt(httpPort))) {
            problem(where + ": --port " + httpPort + " is not a declared containerPort " + ports);
        }
        String role = value(args, "--role", "all");
        if ((role.equals("prefill") || role.equals("decode"))
                && !ports.containsValue(Integer.parseInt(value(args, "--kv-port", "9090")))) {
            problem(where + ": the KV port " + value(args, "--kv-port", "9090") + " is not a declared containerPort " + ports);
        }
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            JsonNode p = c.get(probe);
            if (p == null) {
                if (!probe.equals("startupProbe")) {
                    problem(where + ": no " + probe);
                }
                continue;
            }
            JsonNode get = p.path("httpGet");
            if (!"/health".equals(str(get, "path"))) {
                problem(where + ": " + probe + " must be httpGet on path /health, not " + get.path("path"));
            }
            Integer target = resolvePort(get.get("port"), ports);
            if (target == null) {
                problem(where + ": " + probe + " port " + get.get("port") + " is not a port the container declares " + ports);
            } else if (target != Integer.parseInt(httpPort)) {
                problem(where + ": " + probe + " probes port " + target + " but tandem serves HTTP on --port " + httpPort);
            }
        }
        Set<String> envNames = new HashSet<>();
        for (JsonNode e : c.path("env")) {
            envNames.add(str(e, "name"));
            envRef(where, e, "configMapKeyRef", "ConfigMap", o.namespace());
            envRef(where, e, "secretKeyRef", "Secret", o.namespace());
        }
        for (String a : args) {
            Matcher m = ENV_REF.matcher(a);
            while (m.find()) {
                if (!envNames.contains(m.group(1))) {
                    problem(where + ": argument '" + a + "' refers to $(" + m.group(1) + "), which is not in env");
                }
            }
        }
        for (JsonNode m : c.path("volumeMounts")) {
            if (!volumes.contains(str(m, "name"))) {
                problem(where + ": volumeMount " + str(m, "name") + " names no volume of the pod");
            }
        }
        if (role.equals("router")) {
            for (String nodeRole : List.of("prefill", "decode")) {
                List<String> dns = values(args, "--" + nodeRole + "-dns");
                List<String> fixed = values(args, "--" + nodeRole);
                if (dns.isEmpty() && fixed.isEmpty()) {
                    problem(where + ": the router is given no --" + nodeRole + "-dns (or --" + nodeRole + ")");
                }
                dns.forEach(t -> routerTarget(where, o.namespace(), nodeRole, t));
            }
        }
    }

    /** A router's --prefill-dns / --decode-dns NAME:PORT: a headless Service selecting that role's pods, PORT their HTTP port. */
    private void routerTarget(String where, String namespace, String nodeRole, String target) {
        String flag = "--" + nodeRole + "-dns " + target;
        Matcher m = NAME_PORT.matcher(target);
        if (!m.matches()) {
            problem(where + ": " + flag + " is not NAME:PORT");
            return;
        }
        String[] parts = m.group(1).split("\\.");
        if (parts.length > 1 && !parts[1].equals(namespace)) {
            problem(where + ": " + flag + " names namespace " + parts[1] + ", not " + namespace);
        }
        Obj svc = find("Service", parts[0]);
        if (svc == null) {
            problem(where + ": " + flag + " names no Service " + parts[0]);
            return;
        }
        if (!"None".equals(str(svc.node.path("spec"), "clusterIP"))) {
            problem(where + ": " + flag + ": Service " + parts[0] + " is not headless, so its name resolves to one virtual IP, not to each pod");
        }
        JsonNode port = null;
        for (JsonNode p : svc.node.path("spec").path("ports")) {
            if (p.path("port").asInt() == Integer.parseInt(m.group(2))) {
                port = p;
            }
        }
        if (port == null) {
            problem(where + ": " + flag + ": Service " + parts[0] + " has no port " + m.group(2));
        }
        for (Obj d : selected(svc)) {
            if (!role(d).equals(nodeRole)) {
                problem(where + ": " + flag + ": Service " + parts[0] + " selects " + d.where() + " with --role " + role(d));
            } else if (port != null) {
                JsonNode c = d.node.path("spec").path("template").path("spec").path("containers").get(0);
                Integer target2 = resolvePort(port.has("targetPort") ? port.get("targetPort") : port.get("port"), containerPorts(c));
                String http = value(strings(c.get("args")), "--port", "8080");
                if (target2 == null || target2 != Integer.parseInt(http)) {
                    problem(where + ": " + flag + " reaches container port " + target2 + " of " + d.where() + ", whose HTTP --port is " + http);
                }
            }
        }
    }

    private void envRef(String where, JsonNode env, String refField, String kind, String namespace) {
        JsonNode ref = env.path("valueFrom").get(refField);
        if (ref == null) {
            return;
        }
        Obj target = find(kind, str(ref, "name"));
        if (target == null || !namespace.equals(target.namespace())) {
            problem(where + ": env " + str(env, "name") + " reads " + kind + " " + str(ref, "name") + ", which is not defined in namespace " + namespace);
        } else if (!configData(target).contains(str(ref, "key"))) {
            problem(where + ": env " + str(env, "name") + " reads key '" + str(ref, "key") + "' that " + target.where() + " does not hold");
        }
    }

    private void service(Obj o) {
        JsonNode spec = o.node.path("spec");
        JsonNode selector = spec.path("selector");
        if (!selector.isObject() || selector.isEmpty()) {
            problem(o.where() + ": spec.selector must be a non-empty map");
            return;
        }
        List<Obj> pods = selected(o);
        if (pods.isEmpty()) {
            problem(o.where() + ": selector " + selector + " matches the pod labels of no Deployment in namespace " + o.namespace());
        }
        JsonNode ports = spec.path("ports");
        if (!ports.isArray() || ports.isEmpty()) {
            problem(o.where() + ": declares no ports");
        }
        for (JsonNode p : ports) {
            if (!p.path("port").isInt()) {
                problem(o.where() + ": port " + p.path("port") + " must be an integer");
                continue;
            }
            if (ports.size() > 1 && str(p, "name") == null) {
                problem(o.where() + ": with several ports, each needs a name");
            }
            JsonNode target = p.has("targetPort") ? p.get("targetPort") : p.get("port");
            for (Obj d : pods) {
                for (JsonNode c : d.node.path("spec").path("template").path("spec").path("containers")) {
                    if (resolvePort(target, containerPorts(c)) == null) {
                        problem(o.where() + ": targetPort " + target + " is not a port of " + d.where() + " " + containerPorts(c));
                    }
                }
            }
        }
    }

    /** requests == limits for cpu and memory, cpu a whole number: Guaranteed QoS, exclusive cores under the static policy. */
    private void guaranteed(String where, JsonNode resources) {
        for (String r : List.of("cpu", "memory")) {
            String req = resources.path("requests").path(r).asText(null);
            String lim = resources.path("limits").path(r).asText(null);
            BigDecimal rq = quantity(req), lm = quantity(lim);
            if (rq == null || lm == null) {
                problem(where + ": pinned pods need resources.requests." + r + " and limits." + r + " (found " + req + " / " + lim + ")");
            } else if (rq.compareTo(lm) != 0) {
                problem(where + ": pinned pods need requests." + r + " == limits." + r + " (Guaranteed QoS), not " + req + " / " + lim);
            } else if (r.equals("cpu") && (rq.signum() <= 0 || rq.stripTrailingZeros().scale() > 0)) {
                problem(where + ": pinned pods need a whole number of CPUs (the static CPU manager pins only those), not " + req);
            }
        }
    }

    /** A Kubernetes quantity in base units (cores or bytes), or null when it is not one. */
    static BigDecimal quantity(String q) {
        if (q == null) {
            return null;
        }
        Matcher m = QUANTITY.matcher(q);
        if (!m.matches()) {
            return null;
        }
        BigDecimal n = new BigDecimal(m.group(1));
        String s = m.group(2) == null ? "" : m.group(2);
        return switch (s) {
            case "" -> n;
            case "n" -> n.movePointLeft(9);
            case "u" -> n.movePointLeft(6);
            case "m" -> n.movePointLeft(3);
            case "k" -> n.movePointRight(3);
            case "M" -> n.movePointRight(6);
            case "G" -> n.movePointRight(9);
            case "T" -> n.movePointRight(12);
            case "P" -> n.movePointRight(15);
            case "E" -> n.movePointRight(18);
            default -> n.multiply(BigDecimal.valueOf(2).pow(10 * (1 + "KMGTPE".indexOf(s.charAt(0)))));
        };
    }

    private static Map<String, Integer> containerPorts(JsonNode c) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (JsonNode p : c.path("ports")) {
            ports.put(p.has("name") ? str(p, "name") : "#" + p.path("containerPort").asInt(), p.path("containerPort").asInt());
        }
        return ports;
    }

    /** A probe's or Service's port (a name or a number) as a declared container port, or null. */
    private static Integer resolvePort(JsonNode port, Map<String, Integer> declared) {
        if (port == null) {
            return null;
        }
        if (port.isInt()) {
            return declared.containsValue(port.asInt()) ? port.asInt() : null;
        }
        return declared.get(port.asText());
    }

    private List<Obj> selected(Obj service) {
        JsonNode selector = service.node.path("spec").path("selector");
        List<Obj> out = new ArrayList<>();
        for (Obj d : objects) {
            if (!"Deployment".equals(d.kind()) || d.namespace() == null || !d.namespace().equals(service.namespace())) {
                continue;
            }
            JsonNode labels = d.node.path("spec").path("template").path("metadata").path("labels");
            boolean all = !selector.isEmpty();
            for (var e : fields(selector)) {
                all &= e.getValue().equals(labels.get(e.getKey()));
            }
            if (all) {
                out.add(d);
            }
        }
        return out;
    }

    private static Set<String> configData(Obj o) {
        Set<String> keys = new HashSet<>();
        o.node.path("data").fieldNames().forEachRemaining(keys::add);
        o.node.path("stringData").fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    private static String role(Obj deployment) {
        JsonNode c = deployment.node.path("spec").path("template").path("spec").path("containers").path(0);
        return value(strings(c.get("args")), "--role", "all");
    }

    private List<Obj> byRole(String role) {
        return objects.stream().filter(o -> "Deployment".equals(o.kind()) && role(o).equals(role)).toList();
    }

    private Obj find(String kind, String name) {
        return objects.stream().filter(o -> kind.equals(o.kind()) && o.name() != null && o.name().equals(name)).findFirst().orElse(null);
    }
}
