package io.celerybridge.udfs.builtin;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.Iterator;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Strict reading of the built-in UDFs' settings: every error names the path, the value and what was expected. */
final class SpecReader {

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    private SpecReader() {}

    static void onlyKeys(JsonNode node, String path, Set<String> allowed) {
        requireObject(node, path);
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw new IllegalArgumentException(path + ": unknown key '" + k + "'; expected one of " + new java.util.TreeSet<>(allowed));
            }
        }
    }

    static void requireObject(JsonNode node, String path) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(path + ": expected a mapping, got " + node);
        }
    }

    static String text(JsonNode node, String path) {
        if (!node.isTextual() || node.asText().isEmpty()) {
            throw new IllegalArgumentException(path + ": expected a non-empty string, got " + node);
        }
        return node.asText();
    }

    static String pointer(JsonNode node, String path) {
        if (!node.isTextual() || !(node.asText().isEmpty() || node.asText().startsWith("/"))) {
            throw new IllegalArgumentException(path + ": expected a JSON pointer ('' for the whole payload, or /a/b), got " + node);
        }
        return node.asText();
    }

    static Duration duration(JsonNode node, String path) {
        Matcher m = DURATION.matcher(node.isValueNode() ? node.asText().trim() : "");
        if (!m.matches()) {
            throw new IllegalArgumentException(path + ": expected a duration such as 500ms, 30s, 5m, 1h or 2d, got " + node);
        }
        long n = Long.parseLong(m.group(1));
        switch (m.group(2)) {
            case "ms":
                return Duration.ofMillis(n);
            case "s":
                return Duration.ofSeconds(n);
            case "m":
                return Duration.ofMinutes(n);
            case "h":
                return Duration.ofHours(n);
            default:
                return Duration.ofDays(n);
        }
    }

    static int integer(JsonNode node, String path, int min, int max) {
        if (!node.canConvertToInt() || !node.isIntegralNumber() || node.asInt() < min || node.asInt() > max) {
            throw new IllegalArgumentException(path + ": expected an integer from " + min + " to " + max + ", got " + node);
        }
        return node.asInt();
    }
}
