package io.celerybridge.connectors.celery;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the Celery sink enqueues: one task call, described independently of how it is encoded.
 *
 * <p>This is the one type shared by {@code udfs} (which produce it) and {@code connectors}
 * (which write it): it is the sink's input contract and carries no event-domain meaning.
 * Arguments are held as JSON text, already validated, so records stay cheap to serialize
 * between operators and the codec never re-walks object graphs.
 */
@PublicEvolving
public final class CeleryTask implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Celery's default queue name. */
    public static final String DEFAULT_QUEUE = "celery";

    private final String id;
    private final String idempotencyKey;
    private final String name;
    private final String argsJson;
    private final String kwargsJson;
    private final String queue;
    private final int priority;
    // Epoch microseconds (Celery's precision), NONE when unset: plain longs keep the record
    // cheap for Flink's serializers, which cannot reflect into java.time on Java 17.
    private final long etaMicros;
    private final long expiresMicros;
    private final boolean ignoreResult;
    private final String callbacksJson;
    private final Map<String, String> headers;
    // A batch task: one call covering several members (say events), each with its own
    // idempotency key; kwargs {batchKwarg: [member JSON, ...]}. Empty lists for a plain task.
    private final String batchKwarg;
    private final List<String> memberKeys;
    private final List<String> memberJsons;

    private CeleryTask(Builder b) {
        this.id = b.id;
        this.idempotencyKey = b.idempotencyKey != null ? b.idempotencyKey : b.id;
        this.batchKwarg = b.batchKwarg;
        // ArrayLists, not List.copyOf: Kryo (Flink's fallback serializer) cannot rebuild JDK-internal lists.
        this.memberKeys = new java.util.ArrayList<>(b.memberKeys);
        this.memberJsons = new java.util.ArrayList<>(b.memberJsons);
        this.name = b.name;
        this.argsJson = b.argsJson;
        this.kwargsJson = b.kwargsJson;
        this.queue = b.queue;
        this.priority = b.priority;
        this.etaMicros = toMicros(b.eta);
        this.expiresMicros = toMicros(b.expires);
        this.ignoreResult = b.ignoreResult;
        this.callbacksJson = b.callbacksJson;
        this.headers = new LinkedHashMap<>(b.headers);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether this task covers several members, each marked done by its own idempotency key. */
    public boolean isBatch() {
        return batchKwarg != null;
    }

    /** The members' idempotency keys (empty for a plain task). */
    public List<String> memberKeys() {
        return Collections.unmodifiableList(memberKeys);
    }

    /**
     * The same batch without the members whose keys are in {@code done}, with the id derived from
     * the members left; null if none is left.
     */
    public CeleryTask withoutMembers(java.util.Set<String> done) {
        Builder b = new Builder();
        b.name = name;
        b.argsJson = argsJson;
        b.queue = queue;
        b.priority = priority;
        b.eta = eta();
        b.expires = expires();
        b.ignoreResult = ignoreResult;
        b.callbacksJson = callbacksJson;
        b.headers.putAll(headers);
        List<String> keys = new java.util.ArrayList<>();
        List<String> jsons = new java.util.ArrayList<>();
        for (int i = 0; i < memberKeys.size(); i++) {
            if (!done.contains(memberKeys.get(i))) {
                keys.add(memberKeys.get(i));
                jsons.add(memberJsons.get(i));
            }
        }
        return keys.isEmpty() ? null : b.batchOf(batchKwarg, keys, jsons).build();
    }

    /** Celery task id; the bridge derives it from the event id (see {@link CeleryTaskIds}). */
    public String id() {
        return id;
    }

    /**
     * What the sink marks as done, atomically with the enqueue (defaults to the task id). The
     * bridge uses the event id, so an event replayed within the dedup TTL never yields a second task.
     */
    public String idempotencyKey() {
        return idempotencyKey;
    }

    /** Registered task name, e.g. {@code tasks.add}. */
    public String name() {
        return name;
    }

    /** Positional arguments as a JSON array. */
    public String argsJson() {
        return argsJson;
    }

    /** Keyword arguments as a JSON object. */
    public String kwargsJson() {
        return kwargsJson;
    }

    public String queue() {
        return queue;
    }

    /** 0-9; on the Redis transport a LOWER number runs first. */
    public int priority() {
        return priority;
    }

    /** Earliest execution time, or null to run as soon as possible. */
    public Instant eta() {
        return fromMicros(etaMicros);
    }

    /** Time after which the worker discards the task, or null. */
    public Instant expires() {
        return fromMicros(expiresMicros);
    }

    public boolean ignoreResult() {
        return ignoreResult;
    }

    /** Signatures to call with the result (Celery's {@code link}), as a JSON array, or null. */
    public String callbacksJson() {
        return callbacksJson;
    }

    /** Custom message headers (placed at the top level of the Celery {@code headers}). */
    public Map<String, String> headers() {
        return Collections.unmodifiableMap(headers);
    }

    private static final long NONE = Long.MIN_VALUE;

    /** The first and last instants a Python {@code datetime} holds (years 1 to 9999). */
    private static final Instant PYTHON_MIN = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant PYTHON_MAX = Instant.parse("9999-12-31T23:59:59.999999Z");

    /** True if a Python worker can read {@code t} as a {@code datetime} (years 1 to 9999). */
    public static boolean isWorkerTime(Instant t) {
        return !t.isBefore(PYTHON_MIN) && !t.isAfter(PYTHON_MAX);
    }

    private static long toMicros(Instant t) {
        return t == null ? NONE : Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1000);
    }

    private static Instant fromMicros(long micros) {
        return micros == NONE ? null : Instant.EPOCH.plus(micros, java.time.temporal.ChronoUnit.MICROS);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof CeleryTask)) {
            return false;
        }
        CeleryTask t = (CeleryTask) o;
        return priority == t.priority
                && ignoreResult == t.ignoreResult
                && id.equals(t.id)
                && idempotencyKey.equals(t.idempotencyKey)
                && name.equals(t.name)
                && argsJson.equals(t.argsJson)
                && kwargsJson.equals(t.kwargsJson)
                && queue.equals(t.queue)
                && etaMicros == t.etaMicros
                && expiresMicros == t.expiresMicros
                && Objects.equals(callbacksJson, t.callbacksJson)
                && headers.equals(t.headers)
                && Objects.equals(batchKwarg, t.batchKwarg)
                && memberKeys.equals(t.memberKeys)
                && memberJsons.equals(t.memberJsons);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, name, queue);
    }

    @Override
    public String toString() {
        // Arguments may hold user data: never printed.
        return "CeleryTask{id=" + id + ", name=" + name + ", queue=" + queue + ", priority=" + priority
                + (isBatch() ? ", members=" + memberKeys.size() : "") + "}";
    }

    /** Builds a {@link CeleryTask}; {@code id} and {@code name} are required. */
    public static final class Builder {
        private String id;
        private String idempotencyKey;
        private String name;
        private String argsJson = "[]";
        private String kwargsJson = "{}";
        private String queue = DEFAULT_QUEUE;
        private int priority;
        private Instant eta;
        private Instant expires;
        private boolean ignoreResult;
        private String callbacksJson;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private String batchKwarg;
        private List<String> memberKeys = List.of();
        private List<String> memberJsons = List.of();

        private Builder() {}

        /**
         * Makes this a batch task: kwargs {@code {kwarg: [json, ...]}}, one entry per member, each
         * member done (deduplicated) under its own key. The id and idempotency key are derived from
         * the member keys, so the same members always make the same task.
         */
        public Builder batchOf(String kwarg, List<String> memberKeys, List<String> memberJsons) {
            if (memberKeys.isEmpty() || memberKeys.size() != memberJsons.size()
                    || new java.util.HashSet<>(memberKeys).size() != memberKeys.size()) {
                throw new IllegalArgumentException("a batch task needs one JSON value per member and distinct, non-empty member keys");
            }
            this.batchKwarg = java.util.Objects.requireNonNull(kwarg, "kwarg");
            this.memberKeys = List.copyOf(memberKeys);
            this.memberJsons = List.copyOf(memberJsons);
            return this;
        }

        public Builder id(String id) {
            this.id = id;
            return this;
        }

        /** Defaults to the task id. */
        public Builder idempotencyKey(String idempotencyKey) {
            this.idempotencyKey = idempotencyKey;
            return this;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder argsJson(String argsJson) {
            this.argsJson = argsJson;
            return this;
        }

        public Builder kwargsJson(String kwargsJson) {
            this.kwargsJson = kwargsJson;
            return this;
        }

        public Builder queue(String queue) {
            this.queue = queue;
            return this;
        }

        public Builder priority(int priority) {
            this.priority = priority;
            return this;
        }

        /** @throws IllegalArgumentException outside the years 1 to 9999 a Python worker can read */
        public Builder eta(Instant eta) {
            this.eta = workerTime("eta", eta);
            return this;
        }

        /** @throws IllegalArgumentException outside the years 1 to 9999 a Python worker can read */
        public Builder expires(Instant expires) {
            this.expires = workerTime("expires", expires);
            return this;
        }

        private static Instant workerTime(String what, Instant t) {
            if (t != null && !isWorkerTime(t)) {
                throw new IllegalArgumentException(what + " " + t + " is outside the years 1 to 9999 a Python worker can read");
            }
            return t;
        }

        public Builder ignoreResult(boolean ignoreResult) {
            this.ignoreResult = ignoreResult;
            return this;
        }

        /** A JSON array of Celery signatures ({@code {"task": ..., "args": [...], ...}}), or null. */
        public Builder callbacksJson(String callbacksJson) {
            this.callbacksJson = callbacksJson;
            return this;
        }

        public Builder header(String name, String value) {
            this.headers.put(name, value);
            return this;
        }

        public CeleryTask build() {
            if (batchKwarg != null) {
                List<String> sorted = new java.util.ArrayList<>(memberKeys);
                java.util.Collections.sort(sorted);
                id = CeleryTaskIds.forKey(IdempotencyKeys.batchIdSeed(sorted));
                idempotencyKey = IdempotencyKeys.ofBatch(id);
                kwargsJson = "{" + quoted(batchKwarg) + ": [" + String.join(", ", memberJsons) + "]}";
            }
            require(id, "id");
            require(name, "name");
            require(queue, "queue");
            require(argsJson, "argsJson");
            require(kwargsJson, "kwargsJson");
            if (priority < 0 || priority > 9) {
                throw new IllegalArgumentException("CeleryTask priority must be 0-9, got " + priority);
            }
            return new CeleryTask(this);
        }

        private static String quoted(String s) {
            StringBuilder sb = new StringBuilder("\"");
            for (char c : s.toCharArray()) {
                if (c == '"' || c == '\\') {
                    sb.append('\\').append(c);
                } else if (c < 0x20) {
                    sb.append(String.format("\\u%04x", (int) c));
                } else {
                    sb.append(c);
                }
            }
            return sb.append('"').toString();
        }

        private static void require(String value, String field) {
            if (value == null || value.isEmpty()) {
                throw new IllegalArgumentException("CeleryTask " + field + " is required");
            }
        }
    }
}
