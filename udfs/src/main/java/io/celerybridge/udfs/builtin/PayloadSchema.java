package io.celerybridge.udfs.builtin;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Strict validation of event payloads, from configuration:
 *
 * <pre>
 * required: [type, order_id]            # names or JSON pointers
 * fields:
 *   type:     {type: string, max_length: 64}
 *   /order/amount: {type: [integer, number], min: 0, max: 1000000}
 *   status:   {enum: [new, paid]}
 * </pre>
 *
 * Types: string, integer, number, boolean, object, array, null. {@code min}/{@code max} bound
 * numbers; {@code min_length}/{@code max_length} bound strings (in characters) and arrays.
 */
final class PayloadSchema {

    private static final Set<String> TYPES = Set.of("string", "integer", "number", "boolean", "object", "array", "null");
    private static final Set<String> FIELD_KEYS = Set.of("type", "min", "max", "min_length", "max_length", "enum");

    private final List<String> required = new ArrayList<>();
    private final List<Field> fields = new ArrayList<>();

    PayloadSchema(JsonNode spec, String path) {
        if (spec == null || spec.isNull() || spec.isMissingNode()) {
            return;
        }
        SpecReader.onlyKeys(spec, path, Set.of("required", "fields"));
        JsonNode req = spec.path("required");
        if (!req.isMissingNode()) {
            if (!req.isArray()) {
                throw new IllegalArgumentException(path + ".required: expected a list of field names, got " + req);
            }
            for (JsonNode r : req) {
                required.add(SpecReader.text(r, path + ".required"));
            }
        }
        JsonNode fs = spec.path("fields");
        if (!fs.isMissingNode()) {
            SpecReader.requireObject(fs, path + ".fields");
            for (Iterator<Map.Entry<String, JsonNode>> it = fs.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                fields.add(new Field(e.getKey(), e.getValue(), path + ".fields." + e.getKey()));
            }
        }
    }

    boolean isEmpty() {
        return required.isEmpty() && fields.isEmpty();
    }

    /** @return null if valid, else what is wrong (the first violation) */
    String violation(JsonNode payload) {
        for (String r : required) {
            JsonNode v = payload.at(pointer(r));
            if (v.isMissingNode()) {
                return "required field '" + r + "' is missing";
            }
        }
        for (Field f : fields) {
            JsonNode v = payload.at(f.pointer);
            if (!v.isMissingNode()) {
                String problem = f.check(v);
                if (problem != null) {
                    return "field '" + f.name + "': " + problem;
                }
            }
        }
        return null;
    }

    private static JsonPointer pointer(String nameOrPointer) {
        return nameOrPointer.startsWith("/") ? JsonPointer.compile(nameOrPointer)
                : JsonPointer.compile("/" + nameOrPointer.replace("~", "~0").replace("/", "~1"));
    }

    private static final class Field {
        final String name;
        final JsonPointer pointer;
        final Set<String> types = new LinkedHashSet<>();
        BigDecimal min;
        BigDecimal max;
        Integer minLength;
        Integer maxLength;
        final List<JsonNode> allowed = new ArrayList<>();

        Field(String name, JsonNode spec, String path) {
            this.name = name;
            this.pointer = pointer(name);
            SpecReader.onlyKeys(spec, path, FIELD_KEYS);
            JsonNode t = spec.path("type");
            for (JsonNode one : t.isArray() ? t : List.of(t)) {
                if (one.isMissingNode()) {
                    continue;
                }
                if (!TYPES.contains(one.asText())) {
                    throw new IllegalArgumentException(path + ".type: expected one of " + TYPES + ", got " + one);
                }
                types.add(one.asText());
            }
            min = number(spec.path("min"), path + ".min");
            max = number(spec.path("max"), path + ".max");
            minLength = spec.has("min_length") ? SpecReader.integer(spec.get("min_length"), path + ".min_length", 0, Integer.MAX_VALUE) : null;
            maxLength = spec.has("max_length") ? SpecReader.integer(spec.get("max_length"), path + ".max_length", 0, Integer.MAX_VALUE) : null;
            if (spec.has("enum")) {
                if (!spec.get("enum").isArray() || spec.get("enum").isEmpty()) {
                    throw new IllegalArgumentException(path + ".enum: expected a non-empty list of values, got " + spec.get("enum"));
                }
                spec.get("enum").forEach(allowed::add);
            }
        }

        private static BigDecimal number(JsonNode n, String path) {
            if (n.isMissingNode()) {
                return null;
            }
            if (!n.isNumber()) {
                throw new IllegalArgumentException(path + ": expected a number, got " + n);
            }
            return n.decimalValue();
        }

        String check(JsonNode v) {
            if (!types.isEmpty() && types.stream().noneMatch(t -> is(v, t))) {
                return "expected " + String.join(" or ", types) + ", got " + kind(v);
            }
            if (v.isNumber()) {
                BigDecimal d = v.decimalValue();
                if (min != null && d.compareTo(min) < 0) {
                    return "expected at least " + min.toPlainString() + ", got " + abbreviated(v);
                }
                if (max != null && d.compareTo(max) > 0) {
                    return "expected at most " + max.toPlainString() + ", got " + abbreviated(v);
                }
            }
            int length = v.isTextual() ? v.asText().codePointCount(0, v.asText().length()) : v.isArray() ? v.size() : -1;
            if (length >= 0 && minLength != null && length < minLength) {
                return "expected a length of at least " + minLength + ", got " + length;
            }
            if (length >= 0 && maxLength != null && length > maxLength) {
                return "expected a length of at most " + maxLength + ", got " + length;
            }
            if (!allowed.isEmpty() && !allowed.contains(v)) {
                return "expected one of " + allowed + ", got " + abbreviated(v);
            }
            return null;
        }

        private static boolean is(JsonNode v, String type) {
            switch (type) {
                case "string":
                    return v.isTextual();
                case "integer":
                    return v.isIntegralNumber() || (v.isNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0);
                case "number":
                    return v.isNumber();
                case "boolean":
                    return v.isBoolean();
                case "object":
                    return v.isObject();
                case "array":
                    return v.isArray();
                default:
                    return v.isNull();
            }
        }

        private static String kind(JsonNode v) {
            return v.isTextual() ? "string" : v.isIntegralNumber() ? "integer" : v.isNumber() ? "number"
                    : v.isBoolean() ? "boolean" : v.isObject() ? "object" : v.isArray() ? "array" : "null";
        }

        /** Values in messages are cut short: a dead letter's reason must not carry a payload. */
        private static String abbreviated(JsonNode v) {
            String s = v.toString();
            return s.length() <= 40 ? s : s.substring(0, 37) + "...";
        }
    }
}
