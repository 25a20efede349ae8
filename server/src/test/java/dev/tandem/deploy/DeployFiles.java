package dev.tandem.deploy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Finds the deployment files (docker/, docker/k8s/) from a module directory and reads YAML strictly. */
final class DeployFiles {
    /** Duplicate keys are an error (YAML would keep the last one silently). */
    static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder().build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private DeployFiles() {}

    /** The repository root: the nearest directory, from here up, holding docker/Dockerfile and pom.xml. */
    static Path root() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("docker/Dockerfile")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no docker/Dockerfile above " + Path.of("").toAbsolutePath());
    }

    static Path docker() {
        return root().resolve("docker");
    }

    /** Every document of a YAML file ({@code ---} separated), empty documents left out. */
    static List<JsonNode> readAll(Path file) {
        try (JsonParser parser = YAML.getFactory().createParser(file.toFile())) {
            List<JsonNode> docs = new ArrayList<>();
            Iterator<JsonNode> it = YAML.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    docs.add(doc);
                }
            }
            return docs;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static JsonNode readOne(Path file) {
        List<JsonNode> docs = readAll(file);
        if (docs.size() != 1) {
            throw new IllegalStateException(file + ": expected one YAML document, found " + docs.size());
        }
        return docs.getFirst();
    }

    /** The .yaml / .yml files directly in {@code dir}, sorted by name (the order kubectl applies them). */
    static List<Path> yamlFiles(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    static String text(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** A text field, or null when missing or not text. */
    static String str(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        return v != null && v.isTextual() ? v.asText() : null;
    }

    /** The elements of an array node as strings (non-text elements as their YAML text), or an empty list. */
    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array != null && array.isArray()) {
            array.forEach(e -> out.add(e.asText()));
        }
        return out;
    }

    /** The entries of an object node, or none. */
    static Iterable<Map.Entry<String, JsonNode>> fields(JsonNode object) {
        return object != null && object.isObject() ? object.properties() : List.of();
    }

    /** The value that follows {@code flag} in an argument list ("--flag v" or "--flag=v"); all of them, in order. */
    static List<String> values(List<String> args, String flag) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals(flag) && i + 1 < args.size()) {
                out.add(args.get(i + 1));
            } else if (a.startsWith(flag + "=")) {
                out.add(a.substring(flag.length() + 1));
            }
        }
        return out;
    }

    /** The single value of {@code flag}, or {@code dflt} when absent. */
    static String value(List<String> args, String flag, String dflt) {
        List<String> v = values(args, flag);
        return v.isEmpty() ? dflt : v.getLast();
    }
}
