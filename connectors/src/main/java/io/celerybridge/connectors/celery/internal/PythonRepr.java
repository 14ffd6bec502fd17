package io.celerybridge.connectors.celery.internal;

import org.apache.flink.annotation.Internal;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.Map;

/**
 * Renders JSON values the way Python's {@code repr()} shows the decoded objects, for the
 * {@code argsrepr}/{@code kwargsrepr} headers that Celery tools (Flower, logs) display.
 * Output is cut at a bound, as Celery's own {@code saferepr} does.
 */
@Internal
public final class PythonRepr {

    private PythonRepr() {}

    /** {@code (a, b)} for a JSON array of positional arguments; {@code (a,)} for one. */
    public static String ofArgs(JsonNode args, int maxChars) {
        StringBuilder sb = new StringBuilder(initialCapacity(maxChars)).append('(');
        int i = 0;
        for (JsonNode item : args) {
            if (i++ > 0) {
                sb.append(", ");
            }
            append(sb, item, maxChars);
            if (sb.length() > maxChars) {
                return bound(sb, maxChars);
            }
        }
        if (i == 1) {
            sb.append(',');
        }
        return bound(sb.append(')'), maxChars);
    }

    /** {@code {'k': v}} for a JSON object of keyword arguments. */
    public static String of(JsonNode value, int maxChars) {
        StringBuilder sb = new StringBuilder(initialCapacity(maxChars));
        append(sb, value, maxChars);
        return bound(sb, maxChars);
    }

    private static int initialCapacity(int maxChars) {
        return Math.min(maxChars + 2, 256);
    }

    private static String bound(StringBuilder sb, int maxChars) {
        return sb.length() <= maxChars ? sb.toString() : sb.substring(0, Math.max(0, maxChars - 3)) + "...";
    }

    private static void append(StringBuilder sb, JsonNode v, int maxChars) {
        if (sb.length() > maxChars) {
            return;
        }
        switch (v.getNodeType()) {
            case NULL:
            case MISSING:
                sb.append("None");
                break;
            case BOOLEAN:
                sb.append(v.booleanValue() ? "True" : "False");
                break;
            case NUMBER:
                sb.append(v.isFloatingPointNumber() ? floatRepr(v.doubleValue()) : v.asText());
                break;
            case STRING:
                appendString(sb, v.textValue(), maxChars);
                break;
            case ARRAY:
                sb.append('[');
                int i = 0;
                for (JsonNode item : v) {
                    if (i++ > 0) {
                        sb.append(", ");
                    }
                    append(sb, item, maxChars);
                    if (sb.length() > maxChars) {
                        return;
                    }
                }
                sb.append(']');
                break;
            default:
                sb.append('{');
                int j = 0;
                for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (j++ > 0) {
                        sb.append(", ");
                    }
                    appendString(sb, e.getKey(), maxChars);
                    sb.append(": ");
                    append(sb, e.getValue(), maxChars);
                    if (sb.length() > maxChars) {
                        return;
                    }
                }
                sb.append('}');
        }
    }

    private static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        String s = Double.toString(d);
        // Java prints 1.0E10 where Python prints 10000000000.0; both parse back the same.
        return s.replace("E", "e");
    }

    /**
     * Python picks single quotes unless the text holds one and no double quote. Runs of characters
     * that need no escape are copied whole, and copying stops once the bound is passed: a 1 KB
     * event was otherwise copied character by character (7 us of the 27 us an envelope took).
     */
    private static void appendString(StringBuilder sb, String s, int maxChars) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        sb.append(quote);
        // Every character writes at least one: past this many the bound is passed anyway.
        int limit = Math.min(s.length(), Math.max(0, maxChars + 1 - sb.length()) + 1);
        int run = 0;
        for (int i = 0; i < limit; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != 0x7f && c != quote && c != '\\') {
                continue;
            }
            if (!appendRun(sb, s, run, i, maxChars)) {
                return;
            }
            run = i + 1;
            if (c == quote || c == '\\') {
                sb.append('\\').append(c);
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\r') {
                sb.append("\\r");
            } else if (c == '\t') {
                sb.append("\\t");
            } else {
                sb.append(String.format("\\x%02x", (int) c));
            }
        }
        if (appendRun(sb, s, run, limit, maxChars) && limit == s.length()) {
            sb.append(quote);
        }
    }

    /** Appends s[from, to) but no more than one character past the bound; false if it was cut. */
    private static boolean appendRun(StringBuilder sb, String s, int from, int to, int maxChars) {
        int room = maxChars + 1 - sb.length();
        if (to - from <= room) {
            sb.append(s, from, to);
            return true;
        }
        sb.append(s, from, from + Math.max(0, room));
        return false;
    }
}
