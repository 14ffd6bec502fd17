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
        StringBuilder sb = new StringBuilder("(");
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
        StringBuilder sb = new StringBuilder();
        append(sb, value, maxChars);
        return bound(sb, maxChars);
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
                appendString(sb, v.textValue());
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
                    appendString(sb, e.getKey());
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

    /** Python picks single quotes unless the text holds one and no double quote. */
    private static void appendString(StringBuilder sb, String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        sb.append(quote);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == quote || c == '\\') {
                sb.append('\\').append(c);
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\r') {
                sb.append("\\r");
            } else if (c == '\t') {
                sb.append("\\t");
            } else if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append(quote);
    }
}
