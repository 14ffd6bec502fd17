package io.celerybridge.job.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The job's effective configuration: defaults, then the YAML file, then environment variables
 * ({@value #ENV_PREFIX}{@code SECTION__KEY}, e.g. {@code CELERY_BRIDGE__PULSAR__SERVICE_URL}), then
 * {@code --set key=value}. Strict: an unknown key, a wrong type or an out-of-range value stops
 * start-up with a {@link ConfigException} naming the key, the value and what was expected.
 */
public final class BridgeConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String ENV_PREFIX = "CELERY_BRIDGE__";
    private static final Map<String, Option<?>> BY_KEY = BridgeOptions.ALL.stream()
            .collect(Collectors.toMap(Option::key, o -> o, (a, b) -> a, LinkedHashMap::new));

    /** Keys the job no longer reads, with what to do instead (refused, so a setting is never silently lost). */
    private static final Map<String, String> RETIRED = Map.of(
            "parallelism.default", "it is Flink's own key, and the job's copy overrode flink run -p and the cluster's "
                    + "parallelism.default; set it the Flink way (flink run -p N, -Dparallelism.default=N, the cluster's "
                    + "config, REST \"parallelism\", PARALLELISM in docker-compose.yml); per operator: "
                    + "parallelism.source|dedup|udf|sink");

    private final Map<String, String> text = new LinkedHashMap<>();
    private final Map<String, String> origin = new LinkedHashMap<>();
    private final Map<String, Object> values = new LinkedHashMap<>();

    private BridgeConfig() {}

    /**
     * @param file YAML file, or null for defaults only
     * @param sets {@code key=value} overrides
     * @param env the process environment (only {@value #ENV_PREFIX}* variables are read)
     */
    public static BridgeConfig load(Path file, List<String> sets, Map<String, String> env) {
        BridgeConfig c = new BridgeConfig();
        for (Option<?> o : BridgeOptions.ALL) {
            c.put(o.key, o.defaultText == null ? "" : o.defaultText, "default");
        }
        if (file != null) {
            c.readYaml(file);
        }
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            if (e.getKey().startsWith(ENV_PREFIX)) {
                String key = e.getKey().substring(ENV_PREFIX.length()).toLowerCase().replace("__", ".");
                c.putKnown(key, e.getValue(), "environment variable " + e.getKey());
            }
        }
        for (String set : sets) {
            int eq = set.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException("--set '" + set + "': expected key=value, e.g. --set channel=events");
            }
            c.putKnown(set.substring(0, eq).trim(), set.substring(eq + 1), "--set");
        }
        for (Option<?> o : BridgeOptions.ALL) {
            String t = c.text.get(o.key);
            c.values.put(o.key, t.isEmpty() && !o.type.startsWith("string") && !o.type.startsWith("comma") && !o.secret && !o.isMapping()
                    ? null : o.parse(t));
        }
        c.crossCheck();
        return c;
    }

    @SuppressWarnings("unchecked")
    public <T> T get(Option<T> option) {
        if (!values.containsKey(option.key)) {
            throw new IllegalArgumentException("not a registered option: " + option.key);
        }
        return (T) values.get(option.key);
    }

    /** A secret, read from its file option when the value itself is empty; null when neither is set. */
    public String secret(Option<String> value, Option<String> file) {
        String v = get(value);
        if (v != null && !v.isEmpty()) {
            return v;
        }
        String path = get(file);
        if (path == null || path.isEmpty()) {
            return null;
        }
        try {
            return Files.readString(Path.of(path), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new ConfigException("config key '" + file.key + "': cannot read '" + path + "': " + e.getMessage());
        }
    }

    /** The dead-letter topic: as set, or the first topic with -dlq appended. */
    public String dlqTopic() {
        String d = get(BridgeOptions.DLQ_TOPIC);
        if (!d.isEmpty()) {
            return d;
        }
        List<String> topics = get(BridgeOptions.TOPIC);
        return (topics.isEmpty() ? "persistent://public/default/celery-bridge" : topics.get(0)) + "-dlq";
    }

    /** The effective configuration as YAML-style lines, secrets masked, each with where it came from. */
    public String print() {
        StringBuilder sb = new StringBuilder();
        for (Option<?> o : BridgeOptions.ALL) {
            String v = text.get(o.key);
            String shown = o.secret && !v.isEmpty() ? "****" : o == BridgeOptions.VALKEY_URI ? maskedValkeyUri() : v;
            sb.append(o.key).append(": ").append(shown.isEmpty() ? "\"\"" : shown)
                    .append("    # ").append(origin.get(o.key)).append('\n');
        }
        return sb.toString();
    }

    /**
     * {@code redis://user:secret@host -> redis://user:****@host}; {@code redis://secret@host ->
     * redis://****@host} (lettuce reads a lone user-info as the password). The user-info runs to
     * the LAST '@', since a password may itself hold '@' or '/'.
     */
    public static String maskUriPassword(String uri) {
        return maskUriPassword(uri, false);
    }

    /** valkey.uri as it may be shown: with a password given apart, a lone user-info is the ACL user. */
    public String maskedValkeyUri() {
        return maskUriPassword(get(BridgeOptions.VALKEY_URI),
                !get(BridgeOptions.VALKEY_PASSWORD).isEmpty() || !get(BridgeOptions.VALKEY_PASSWORD_FILE).isEmpty());
    }

    /** @param loneUserInfoIsUser a user-info without ':' names the user (the password is given apart) */
    static String maskUriPassword(String uri, boolean loneUserInfoIsUser) {
        int start = uri.indexOf("://");
        int at = uri.lastIndexOf('@');
        if (start < 0 || at < start) {
            return uri;
        }
        String userInfo = uri.substring(start + 3, at);
        int colon = userInfo.indexOf(':');
        if (colon < 0 && loneUserInfoIsUser) {
            return uri;
        }
        return uri.substring(0, start + 3) + (colon >= 0 ? userInfo.substring(0, colon + 1) : "") + "****" + uri.substring(at);
    }

    private void crossCheck() {
        List<String> topics = get(BridgeOptions.TOPIC);
        if (topics.isEmpty() && get(BridgeOptions.PULSAR_TOPIC_PATTERN).isEmpty()) {
            throw new ConfigException("config keys 'topic' and 'pulsar.topic_pattern' are both empty; expected a topic to read");
        }
        if (get(BridgeOptions.RESTART_MAX_DELAY).compareTo(get(BridgeOptions.RESTART_DELAY)) < 0) {
            throw new ConfigException("config key 'restart.max_delay': value '" + text.get("restart.max_delay")
                    + "' is invalid; expected at least restart.delay (" + text.get("restart.delay") + ")");
        }
        int threshold = get(BridgeOptions.CIRCUIT_FAILURE_THRESHOLD);
        if (threshold - 1 > get(BridgeOptions.MAX_RETRIES)) {
            throw new ConfigException("config key 'circuit.failure_threshold': value '" + threshold + "' is invalid; expected at most "
                    + "max_retries + 1 (" + (get(BridgeOptions.MAX_RETRIES) + 1) + "), else an outage could exhaust an event's "
                    + "retries before the circuit opens");
        }
        if (!get(BridgeOptions.UDF_CLASS).isEmpty()
                && !(get(BridgeOptions.UDF_SCHEMA).isEmpty() && get(BridgeOptions.UDF_ROUTING).isEmpty()
                        && get(BridgeOptions.UDF_BATCH_TASK).isEmpty())) {
            throw new ConfigException("config keys 'udf.schema', 'udf.routing' and 'udf.batch_task' configure the built-in UDF; with 'udf.class' ("
                    + get(BridgeOptions.UDF_CLASS) + ") they would be ignored: expected one or the other");
        }
        if (!get(BridgeOptions.PULSAR_TOPIC_PATTERN).isEmpty()) {
            try {
                java.util.regex.Pattern.compile(get(BridgeOptions.PULSAR_TOPIC_PATTERN));
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new ConfigException("config key 'pulsar.topic_pattern': value '" + text.get("pulsar.topic_pattern")
                        + "' is invalid; expected a regular expression (" + e.getDescription() + ")");
            }
        }
    }

    /** A mapping option as flat dotted keys to text values (for {@code udf.params}). */
    public Map<String, String> flatMapping(Option<String> option) {
        Map<String, String> out = new LinkedHashMap<>();
        String json = get(option);
        if (!json.isEmpty()) {
            try {
                flattenInto("", new ObjectMapper().readTree(json), out);
            } catch (IOException e) {
                throw new IllegalStateException("parsed mapping is JSON", e);
            }
        }
        return out;
    }

    private static void flattenInto(String prefix, JsonNode node, Map<String, String> out) {
        node.fields().forEachRemaining(e -> {
            if (e.getValue().isObject()) {
                flattenInto(prefix + e.getKey() + ".", e.getValue(), out);
            } else {
                out.put(prefix + e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString());
            }
        });
    }

    private void readYaml(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return;
        }
        if (!root.isObject()) {
            throw new ConfigException("config file " + file + ": expected a mapping of keys at the top level");
        }
        flatten("", root, file);
    }

    private void flatten(String prefix, JsonNode node, Path file) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = prefix + e.getKey();
            JsonNode v = e.getValue();
            if (v.isObject() && BY_KEY.containsKey(key) && BY_KEY.get(key).isMapping()) {
                putKnown(key, v.toString(), file.toString());
            } else if (v.isObject()) {
                if (BY_KEY.containsKey(key)) {
                    throw new ConfigException("config key '" + key + "' in " + file + ": expected a value, got a mapping");
                }
                flatten(key + ".", v, file);
            } else if (v.isArray()) {
                StringBuilder joined = new StringBuilder();
                for (JsonNode item : v) {
                    if (!item.isValueNode()) {
                        throw new ConfigException("config key '" + key + "' in " + file + ": expected a list of plain values");
                    }
                    joined.append(joined.length() == 0 ? "" : ",").append(item.asText());
                }
                putKnown(key, joined.toString(), file.toString());
            } else {
                putKnown(key, v.isNull() ? "" : v.asText(), file.toString());
            }
        }
    }

    private void putKnown(String key, String value, String from) {
        if (RETIRED.containsKey(key)) {
            throw new ConfigException("config key '" + key + "' (from " + from + ") is no longer a job setting: " + RETIRED.get(key));
        }
        if (!BY_KEY.containsKey(key)) {
            throw new ConfigException("unknown config key '" + key + "' (from " + from + "); expected one of: "
                    + suggestions(key));
        }
        put(key, value, from);
    }

    private void put(String key, String value, String from) {
        text.put(key, value);
        origin.put(key, from);
    }

    private static String suggestions(String key) {
        String section = key.contains(".") ? key.substring(0, key.indexOf('.') + 1) : "";
        List<String> same = BY_KEY.keySet().stream().filter(k -> !section.isEmpty() && k.startsWith(section)).collect(Collectors.toList());
        return String.join(", ", same.isEmpty() ? BY_KEY.keySet() : same);
    }
}
