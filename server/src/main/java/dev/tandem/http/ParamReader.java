package dev.tandem.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Typed, range-checked reads of one JSON request object. A field that is absent or {@code null}
 * gives the default; a field of the wrong type or out of range is a 400 naming the field.
 * Unknown fields are never looked at.
 */
final class ParamReader {
    private final ObjectNode body;

    ParamReader(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest(null, "the request body must be a JSON object");
        }
        this.body = (ObjectNode) body;
    }

    /** The raw node, or null when absent or JSON null. */
    JsonNode node(String name) {
        JsonNode n = body.get(name);
        return n == null || n.isNull() ? null : n;
    }

    boolean has(String name) {
        return node(name) != null;
    }

    String string(String name, String dflt) {
        JsonNode n = node(name);
        if (n == null) {
            return dflt;
        }
        if (!n.isTextual()) {
            throw ApiException.badRequest(name, "'" + name + "' must be a string, got " + kind(n));
        }
        return n.textValue();
    }

    boolean bool(String name, boolean dflt) {
        JsonNode n = node(name);
        if (n == null) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw ApiException.badRequest(name, "'" + name + "' must be a boolean, got " + kind(n));
        }
        return n.booleanValue();
    }

    double number(String name, double dflt, double min, double max) {
        JsonNode n = node(name);
        if (n == null) {
            return dflt;
        }
        if (!n.isNumber()) {
            throw ApiException.badRequest(name, "'" + name + "' must be a number, got " + kind(n));
        }
        double v = n.doubleValue();
        if (!(v >= min && v <= max)) {
            throw ApiException.badRequest(name, "'" + name + "' must be between " + fmt(min) + " and " + fmt(max) + ", got " + n);
        }
        return v;
    }

    /** An integer in [min, max], or null when absent. */
    Long integer(String name, long min, long max) {
        JsonNode n = node(name);
        if (n == null) {
            return null;
        }
        long v = integral(n, name);
        if (v < min || v > max) {
            throw ApiException.badRequest(name, "'" + name + "' must be between " + min + " and " + max + ", got " + n);
        }
        return v;
    }

    int integer(String name, int dflt, int min, int max) {
        Long v = integer(name, min, max);
        return v == null ? dflt : v.intValue();
    }

    /** A whole JSON number (1 or 1.0, not 1.5, not "1") that fits a long. */
    static long integral(JsonNode n, String param) {
        if (n.isIntegralNumber() && n.canConvertToLong()) {
            return n.longValue();
        }
        if (n.isFloatingPointNumber() && n.canConvertToExactIntegral() && n.canConvertToLong()) {
            return n.longValue();
        }
        throw ApiException.badRequest(param, "'" + param + "' must be an integer, got " + kind(n) + " " + n);
    }

    static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase();
        };
    }

    private static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
