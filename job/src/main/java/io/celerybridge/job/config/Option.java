package io.celerybridge.job.config;

import java.io.Serializable;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One configuration key: its dotted name, type, default (or none), description, and whether it
 * is a secret (masked when printed, never logged). Values arrive as text (YAML scalars, --set,
 * environment) and are parsed and range-checked here, so every error names key, value and
 * what was expected.
 */
public final class Option<T> implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    public interface Parser<T> extends Function<String, T>, Serializable {}

    final String key;
    final String type;
    final String defaultText;
    final String description;
    final boolean secret;
    private final Parser<T> parser;

    private Option(String key, String type, String defaultText, String description, boolean secret, Parser<T> parser) {
        this.key = key;
        this.type = type;
        this.defaultText = defaultText;
        this.description = description;
        this.secret = secret;
        this.parser = parser;
    }

    public String key() {
        return key;
    }

    T parse(String text) {
        try {
            return parser.apply(text.trim());
        } catch (ConfigException e) {
            throw e;
        } catch (RuntimeException e) {
            throw invalid(text, type);
        }
    }

    ConfigException invalid(String value, String expected) {
        return new ConfigException("config key '" + key + "': value '" + (secret ? "****" : BridgeConfig.maskUriPassword(value))
                + "' is invalid; expected " + expected);
    }

    // ---------------------------------------------------------------- factories

    static Option<String> string(String key, String def, String description) {
        return new Option<>(key, "string", def, description, false, s -> s);
    }

    static Option<String> nonEmpty(String key, String def, String description) {
        Option<String>[] self = new Option[1];
        self[0] = new Option<>(key, "non-empty string", def, description, false, s -> {
            if (s.isEmpty()) {
                throw self[0].invalid(s, "a non-empty string");
            }
            return s;
        });
        return self[0];
    }

    static Option<String> secret(String key, String description) {
        return new Option<>(key, "secret string", null, description, true, s -> s);
    }

    static Option<Integer> integer(String key, int def, int min, int max, String description) {
        Option<Long> asLong = longValue(key, def, min, max, description);
        return new Option<>(key, asLong.type, asLong.defaultText, description, false, s -> asLong.parser.apply(s).intValue());
    }

    static Option<Long> longValue(String key, long def, long min, long max, String description) {
        String type = "integer " + min + ".." + max;
        Option<Long>[] self = new Option[1];
        self[0] = new Option<>(key, type, Long.toString(def), description, false, s -> {
            long v;
            try {
                v = Long.parseLong(s.replace("_", ""));
            } catch (NumberFormatException e) {
                throw self[0].invalid(s, "an " + type);
            }
            if (v < min || v > max) {
                throw self[0].invalid(s, "an " + type);
            }
            return v;
        });
        return self[0];
    }

    static Option<Boolean> bool(String key, boolean def, String description) {
        Option<Boolean>[] self = new Option[1];
        self[0] = new Option<>(key, "boolean", Boolean.toString(def), description, false, s -> {
            switch (s.toLowerCase(Locale.ROOT)) {
                case "true":
                    return true;
                case "false":
                    return false;
                default:
                    throw self[0].invalid(s, "true or false");
            }
        });
        return self[0];
    }

    /** Durations as {@code 500ms}, {@code 30s}, {@code 5m}, {@code 24h}, {@code 7d}. */
    static Option<Duration> duration(String key, String def, Duration min, Duration max, String description) {
        String type = "duration " + text(min) + ".." + text(max) + " (e.g. 500ms, 30s, 5m, 24h)";
        Option<Duration>[] self = new Option[1];
        self[0] = new Option<>(key, "duration", def, description, false, s -> {
            Matcher m = DURATION.matcher(s);
            if (!m.matches()) {
                throw self[0].invalid(s, "a " + type);
            }
            long n = Long.parseLong(m.group(1));
            Duration d;
            switch (m.group(2)) {
                case "ms":
                    d = Duration.ofMillis(n);
                    break;
                case "s":
                    d = Duration.ofSeconds(n);
                    break;
                case "m":
                    d = Duration.ofMinutes(n);
                    break;
                case "h":
                    d = Duration.ofHours(n);
                    break;
                default:
                    d = Duration.ofDays(n);
            }
            if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
                throw self[0].invalid(s, "a " + type);
            }
            return d;
        });
        return self[0];
    }

    static Option<List<String>> list(String key, String def, String description) {
        return new Option<>(key, "comma-separated list", def, description, false,
                s -> s.isEmpty() ? List.of() : Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty())
                        .collect(Collectors.toList()));
    }

    static Option<String> oneOf(String key, String def, String description, String... allowed) {
        String type = "one of " + String.join(", ", allowed);
        Option<String>[] self = new Option[1];
        self[0] = new Option<>(key, type, def, description, false, s -> {
            if (!Arrays.asList(allowed).contains(s)) {
                throw self[0].invalid(s, type);
            }
            return s;
        });
        return self[0];
    }

    /** A YAML mapping in the file; JSON (or YAML flow) text in --set and the environment. Parsed to JSON text. */
    static Option<String> mapping(String key, String description) {
        String type = "mapping (YAML in the file, JSON text in --set or the environment)";
        Option<String>[] self = new Option[1];
        self[0] = new Option<>(key, type, "", description, false, s -> {
            if (s.isEmpty()) {
                return "";
            }
            com.fasterxml.jackson.databind.JsonNode n;
            try {
                n = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(s);
            } catch (java.io.IOException e) {
                throw self[0].invalid(s, type + " (" + e.getMessage().lines().findFirst().orElse("") + ")");
            }
            if (n == null || !n.isObject()) {
                throw self[0].invalid(s, type);
            }
            return n.toString();
        });
        return self[0];
    }

    boolean isMapping() {
        return type.startsWith("mapping");
    }

    static <T> Option<T> custom(String key, String type, String def, String description, Parser<T> parser) {
        return new Option<>(key, type, def, description, false, parser);
    }

    private static String text(Duration d) {
        if (d.toMillis() % 86_400_000L == 0 && d.toDays() > 0) {
            return d.toDays() + "d";
        }
        if (d.toMillis() % 1000 == 0) {
            return d.getSeconds() + "s";
        }
        return d.toMillis() + "ms";
    }
}
