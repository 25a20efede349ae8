package dev.tandem.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docker/compose.yaml and docker/prometheus.yml against {@link ComposeCheck}; then broken copies, to show each check bites. */
class ComposeFileTest {
    private static final Path DIR = DeployFiles.docker();

    private static JsonNode compose() {
        return DeployFiles.readOne(DIR.resolve("compose.yaml"));
    }

    private static JsonNode prometheus() {
        return DeployFiles.readOne(DIR.resolve("prometheus.yml"));
    }

    @Test
    void composeFileAndPrometheusConfigPass() {
        assertEquals(List.of(), ComposeCheck.check(compose(), prometheus(), DIR));
    }

    @Test
    void composeRunsOneRouterOnePrefillAndOneDecodeNodeWithTheDemoModelPlusPrometheus() {
        JsonNode services = compose().get("services");
        assertEquals(List.of("router", "prefill", "decode", "prometheus"), names(services), "services of compose.yaml");
        for (String s : List.of("router", "prefill", "decode")) {
            List<String> args = DeployFiles.strings(services.get(s).get("command"));
            assertEquals(s, DeployFiles.value(args, "--role", "all"), s + ": " + args);
            assertEquals("demo", DeployFiles.value(args, "--model", null), s + ": " + args);
            assertTrue(services.get(s).path("environment").has("TANDEM_CLUSTER_TOKEN"), s + " gets the cluster token");
        }
    }

    @Test
    void healthChecksRunTheScriptTheImageInstalls() {
        String dockerfile = DeployFiles.text(DeployFiles.root().resolve("docker/Dockerfile"));
        List<String> installed = DockerfileCheck.parse(dockerfile).stream().filter(i -> i.keyword().equals("COPY"))
                .map(i -> i.args().substring(i.args().lastIndexOf(' ') + 1)).toList();
        JsonNode services = compose().get("services");
        for (String s : List.of("router", "prefill", "decode")) {
            List<String> test = DeployFiles.strings(services.get(s).path("healthcheck").get("test"));
            assertTrue(test.size() >= 2 && test.getFirst().equals("CMD") && installed.contains(test.get(1)),
                    s + ": healthcheck " + test + " should run a file the Dockerfile COPYs " + installed);
        }
    }

    @Test
    void brokenCopiesAreCaught() {
        expect(c -> svc(c, "router").set("ports", array(new IntNode(8080))), "must be a quoted \"host:container\" string");
        expect(c -> svc(c, "router").set("ports", array(new TextNode("8080"))), "is not \"[ip:]host:container\"");
        expect(c -> svc(c, "router").set("command", array("serve", "--role", "router", "--model", "demo", "--host", "0.0.0.0",
                "--prefill", "prefil:8080", "--decode", "decode:8080")), "names no tandem service 'prefil'");
        expect(c -> svc(c, "router").set("command", array("serve", "--role", "router", "--model", "demo", "--host", "0.0.0.0",
                "--prefill", "prefill:8081", "--decode", "decode:8080")), "serves HTTP on --port 8080");
        expect(c -> svc(c, "router").set("command", array("serve", "--role", "router", "--model", "demo", "--host", "0.0.0.0",
                "--prefill", "decode:8080", "--decode", "decode:8080")), "points at a service with --role decode");
        expect(c -> ((ObjectNode) svc(c, "router").get("depends_on").get("decode")).put("condition", "healthy"),
                "condition must be one of");
        expect(c -> ((ObjectNode) svc(c, "router").get("depends_on")).set("cache", ((ObjectNode) svc(c, "router").get("depends_on").get("decode")).deepCopy()),
                "depends_on names no service 'cache'");
        expect(c -> svc(c, "decode").remove("healthcheck"), "that service declares no healthcheck");
        expect(c -> ((ObjectNode) svc(c, "decode").get("healthcheck")).put("test", "/opt/tandem/healthcheck.sh"),
                "healthcheck.test must be a non-empty list");
        expect(c -> ((ObjectNode) c).remove("volumes"), "named volume 'tandem-cache' is not declared");
        expect(c -> svc(c, "decode").remove(List.of("image", "build")), "needs 'image' or 'build'");
        expect(c -> svc(c, "prefill").set("command", array("serve", "--role", "prefill", "--model", "demo", "--host", "0.0.0.0",
                "--prefil-threads", "2")), "has no option --prefil-threads");
        expect(c -> svc(c, "prefill").set("command", array("serve", "--role", "prefill", "--model", "demo", "--host", "0.0.0.0",
                "--max-queue", "many")), "tandem serve rejects");
        expect(c -> svc(c, "prefill").set("command", array("serve", "--role", "prefill", "--model", "demo")),
                "needs --host 0.0.0.0");
        expect(c -> svc(c, "prefill").set("expose", array("8080")), "port 9090 is not in 'expose'");
    }

    @Test
    void prometheusMissingANodeIsCaught() {
        ObjectNode p = (ObjectNode) prometheus();
        ArrayNode statics = (ArrayNode) p.get("scrape_configs").get(0).get("static_configs");
        statics.remove(2);
        List<String> problems = ComposeCheck.check(compose(), p, DIR);
        assertTrue(problems.contains("prometheus: tandem service 'decode' is not scraped"), problems.toString());
    }

    private static void expect(Consumer<JsonNode> breakIt, String fragment) {
        JsonNode c = compose().deepCopy();
        breakIt.accept(c);
        List<String> problems = ComposeCheck.check(c, prometheus(), DIR);
        assertTrue(problems.stream().anyMatch(p -> p.contains(fragment)),
                "expected a problem containing '" + fragment + "' for the broken copy\n" + c.get("services") + "\ngot: " + problems);
    }

    private static ObjectNode svc(JsonNode compose, String name) {
        return (ObjectNode) compose.get("services").get(name);
    }

    private static ArrayNode array(Object... items) {
        ArrayNode a = DeployFiles.YAML.createArrayNode();
        for (Object o : items) {
            if (o instanceof JsonNode n) {
                a.add(n);
            } else {
                a.add(o.toString());
            }
        }
        return a;
    }

    private static List<String> names(JsonNode object) {
        List<String> out = new java.util.ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
