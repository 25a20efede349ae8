package dev.tandem.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docker/k8s/*.yaml against {@link KubeCheck}; then broken copies, to show each check bites. */
class KubernetesManifestsTest {
    private static final Path DIR = DeployFiles.docker().resolve("k8s");

    private static final Map<String, List<JsonNode>> READ = read();

    private static Map<String, List<JsonNode>> read() {
        Map<String, List<JsonNode>> files = new LinkedHashMap<>();
        for (Path f : DeployFiles.yamlFiles(DIR)) {
            files.put(f.getFileName().toString(), DeployFiles.readAll(f));
        }
        return files;
    }

    /** File name → documents, in kubectl's apply order (a fresh deep copy: tests break them). */
    private static Map<String, List<JsonNode>> manifests() {
        Map<String, List<JsonNode>> files = new LinkedHashMap<>();
        READ.forEach((f, docs) -> files.put(f, docs.stream().<JsonNode>map(JsonNode::deepCopy).toList()));
        return files;
    }

    @Test
    void manifestsPass() {
        Map<String, List<JsonNode>> files = manifests();
        assertEquals(List.of("00-namespace.yaml", "10-config.yaml", "20-decode.yaml", "20-prefill.yaml", "30-router.yaml"),
                new ArrayList<>(files.keySet()), "files in docker/k8s");
        assertEquals(List.of(), KubeCheck.check(files));
    }

    @Test
    void everyKindAskedForIsThere() {
        List<String> objects = new ArrayList<>();
        manifests().values().forEach(docs -> docs.forEach(d -> objects.add(d.path("kind").asText() + " " + d.path("metadata").path("name").asText())));
        assertEquals(List.of("Namespace tandem", "ConfigMap tandem-config", "Secret tandem-cluster-token",
                "Deployment tandem-decode", "Service tandem-decode", "Deployment tandem-prefill", "Service tandem-prefill",
                "Deployment tandem-router", "Service tandem-router"), objects);
    }

    @Test
    void quantitiesAreReadInBaseUnits() {
        assertEquals(0, new BigDecimal("2").compareTo(KubeCheck.quantity("2000m")), "2000m");
        assertEquals(0, new BigDecimal("0.5").compareTo(KubeCheck.quantity("500m")), "500m");
        assertEquals(0, new BigDecimal(4L << 30).compareTo(KubeCheck.quantity("4Gi")), "4Gi");
        assertEquals(0, new BigDecimal("4096").compareTo(KubeCheck.quantity("4Ki")), "4Ki");
        assertEquals(0, new BigDecimal("4000000000").compareTo(KubeCheck.quantity("4G")), "4G");
        assertNull(KubeCheck.quantity("4 GiB"), "4 GiB");
    }

    @Test
    void brokenCopiesAreCaught() {
        expect("20-decode.yaml", 0, d -> ((ObjectNode) container(d).path("resources").path("limits")).put("cpu", "3"),
                "requests.cpu == limits.cpu");
        expect("20-decode.yaml", 0, d -> {
            ((ObjectNode) container(d).path("resources").path("limits")).put("cpu", "1500m");
            ((ObjectNode) container(d).path("resources").path("requests")).put("cpu", "1500m");
        }, "whole number of CPUs");
        expect("20-decode.yaml", 0, d -> ((ObjectNode) container(d).path("resources")).remove("limits"), "limits.memory");
        expect("20-decode.yaml", 0, d -> ((ObjectNode) d.path("spec").path("template").path("metadata").path("labels")).remove(KubeCheck.PINNED),
                "decode pods must be labelled");
        expect("20-decode.yaml", 0, d -> ((ObjectNode) d.path("spec").path("selector").path("matchLabels")).put("app.kubernetes.io/component", "decoder"),
                "is not a label of the pod template");
        expect("20-decode.yaml", 0, d -> ((ObjectNode) container(d).path("readinessProbe").path("httpGet")).put("port", "metrics"),
                "readinessProbe port \"metrics\" is not a port the container declares");
        expect("20-decode.yaml", 0, d -> ((ObjectNode) container(d).path("livenessProbe").path("httpGet")).put("path", "/healthz"),
                "livenessProbe must be httpGet on path /health");
        expect("20-decode.yaml", 0, d -> ((ObjectNode) container(d)).remove("readinessProbe"), "no readinessProbe");
        expect("20-decode.yaml", 0, d -> ((ArrayNode) container(d).path("ports")).remove(1), "the KV port 9090 is not a declared containerPort");
        expect("20-decode.yaml", 0, d -> ((ObjectNode) container(d)).put("image", ""), "needs a name and an image");
        expect("20-decode.yaml", 0, d -> ((ArrayNode) container(d).path("args")).add("--decode-thread").add("2"),
                "has no option --decode-thread");
        expect("20-decode.yaml", 0, d -> ((ArrayNode) container(d).path("env")).remove(0), "refers to $(TANDEM_MODEL), which is not in env");
        expect("20-decode.yaml", 0, d -> ((ObjectNode) container(d).path("env").path(1).path("valueFrom").path("secretKeyRef")).put("key", "tok"),
                "reads key 'tok'");
        expect("20-decode.yaml", 1, s -> ((ObjectNode) s.path("spec")).remove("clusterIP"), "must be headless");
        expect("20-decode.yaml", 1, s -> ((ObjectNode) s.path("spec").path("selector")).put("app.kubernetes.io/component", "decoder"),
                "matches the pod labels of no Deployment");
        expect("20-decode.yaml", 1, s -> ((ObjectNode) s.path("spec").path("ports").path(1)).put("targetPort", "kvv"),
                "targetPort \"kvv\" is not a port of");
        expect("30-router.yaml", 0, d -> {
            ArrayNode args = (ArrayNode) container(d).path("args");
            for (int i = 0; i < args.size(); i++) {
                if (args.get(i).asText().equals("tandem-decode:8080")) {
                    args.set(i, "tandem-prefill:8080");
                }
            }
        }, "selects 20-prefill.yaml: Deployment tandem-prefill with --role prefill");
        expect("30-router.yaml", 0, d -> {
            ArrayNode args = (ArrayNode) container(d).path("args");
            for (int i = 0; i < args.size(); i++) {
                if (args.get(i).asText().equals("tandem-decode:8080")) {
                    args.set(i, "tandem-decode:9090");
                }
            }
        }, "whose HTTP --port is 8080");
        expect("30-router.yaml", 1, s -> ((ObjectNode) s.path("metadata")).put("namespace", "default"),
                "namespace default is not defined");
        expect("10-config.yaml", 0, c -> ((ObjectNode) c).put("apiVersion", "v2"), "apiVersion must be v1");
    }

    private static void expect(String file, int doc, Consumer<JsonNode> breakIt, String fragment) {
        Map<String, List<JsonNode>> files = manifests();
        JsonNode target = files.get(file).get(doc);
        breakIt.accept(target);
        List<String> problems = KubeCheck.check(files);
        assertTrue(problems.stream().anyMatch(p -> p.contains(fragment)),
                "expected a problem containing '" + fragment + "' for the broken copy of " + file + " document " + doc
                        + "\n" + target + "\ngot: " + problems);
    }

    private static JsonNode container(JsonNode deployment) {
        return deployment.path("spec").path("template").path("spec").path("containers").path(0);
    }
}
