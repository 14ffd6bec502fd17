package io.celerybridge.connectors.celery;

import io.celerybridge.connectors.celery.internal.PythonJson;
import io.celerybridge.connectors.celery.internal.PythonRepr;

import org.apache.flink.annotation.PublicEvolving;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Encodes a {@link CeleryTask} as the message kombu's Redis transport LPUSHes: a JSON envelope
 * with a base64 body {@code [args, kwargs, embed]}, Celery task protocol v2 headers, and the
 * transport properties a stock worker needs ({@code delivery_tag}, {@code delivery_info}). The
 * JSON is written byte for byte as Python's {@code json.dumps} writes it.
 *
 * <p>Golden data in {@code shared/celery-fixtures} (Celery 5.2.6) defines the format. A task
 * that would produce a message a stock worker drops or dies on is refused with a
 * {@link CeleryEncodingException} naming why; the caller routes it to the DLQ.
 *
 * <p>Defaults: no global key prefix, dedup keys under {@value #DEFAULT_DEDUP_KEY_PREFIX}, ETAs at
 * most {@link #DEFAULT_MAX_ETA} ahead (kombu's visibility timeout: a later ETA runs twice),
 * arguments nested at most {@value #DEFAULT_MAX_NESTING_DEPTH} deep.
 */
@PublicEvolving
public final class CeleryEnvelopeCodec implements Serializable {
    private static final long serialVersionUID = 2L;

    /** Celery's own bound for argsrepr/kwargsrepr ({@code argsrepr_maxsize}). */
    public static final int REPR_MAX_CHARS = 1024;
    public static final String DEFAULT_DEDUP_KEY_PREFIX = "celery-bridge:dedup:";
    public static final Duration DEFAULT_MAX_ETA = Duration.ofHours(1);
    /** Far below Python's recursion limit, which a worker hits decoding deeper bodies. */
    public static final int DEFAULT_MAX_NESTING_DEPTH = 100;

    /** kombu's priority separator: {@code <queue>\x06\x16<bucket>}. */
    static final String PRIORITY_SEPARATOR = "\u0006\u0016";

    // Task names and header names go into a worker's dispatch and logs: keep them plain.
    private static final Pattern TASK_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.:\\-]{0,199}");
    private static final Pattern HEADER_NAME = Pattern.compile("x-[A-Za-z0-9_\\-]{1,64}");
    private static final Pattern QUEUE_NAME = Pattern.compile("[A-Za-z0-9_.:\\-]{1,200}");

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final DateTimeFormatter ISO_SECONDS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxxx").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter ISO_MICROS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSxxx").withZone(ZoneOffset.UTC);

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(10_000).build());
    }

    private final String origin;
    private final String globalKeyPrefix;
    private final String dedupKeyPrefix;
    private final Duration maxEta;
    private final int maxNestingDepth;
    private final Clock clock;
    // The last name and queue that passed their pattern: a job sends few distinct ones, and the
    // regular expressions were a visible share of encoding. Plain fields: a stale read only re-checks.
    private transient String lastValidName;
    private transient String lastValidQueue;

    private CeleryEnvelopeCodec(Builder b) {
        this.origin = b.origin;
        this.globalKeyPrefix = b.globalKeyPrefix;
        this.dedupKeyPrefix = b.dedupKeyPrefix;
        this.maxEta = b.maxEta;
        this.maxNestingDepth = b.maxNestingDepth;
        this.clock = b.clock;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The Valkey list the task goes to: the queue, or its priority bucket, under the global prefix. */
    public String listKey(CeleryTask task) {
        return bucketKey(queueKey(task), priorityBucket(task.priority()));
    }

    private String queueKey(CeleryTask task) {
        return globalKeyPrefix + task.queue();
    }

    /** kombu's priority steps: each queue is four lists, one per step. */
    private static final int[] PRIORITY_STEPS = {0, 3, 6, 9};

    /**
     * Every list a queue consists of on kombu's Redis transport, lowest priority number first
     * (the order a worker pops them in): what a queue's depth is summed over.
     */
    public static String[] priorityListKeys(String queueKey) {
        String[] keys = new String[PRIORITY_STEPS.length];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = bucketKey(queueKey, PRIORITY_STEPS[i]);
        }
        return keys;
    }

    private static String bucketKey(String queueKey, int bucket) {
        return bucket == 0 ? queueKey : queueKey + PRIORITY_SEPARATOR + bucket;
    }

    /** kombu's default priority steps are 0, 3, 6, 9; a priority goes to the step at or below it. */
    static int priorityBucket(int priority) {
        return priority >= 9 ? 9 : (priority / 3) * 3;
    }

    /**
     * The key the sink marks, with the enqueue, for a task with this idempotency key: a digest,
     * so every mark has the same size whatever the id (an id of 100,000 characters included).
     */
    public String dedupKey(String idempotencyKey) {
        return dedupKeyPrefix + IdempotencyKeys.digest(idempotencyKey);
    }

    /** The message for the sink: envelope plus the keys of the atomic enqueue. */
    public CeleryMessage toMessage(CeleryTask task) throws CeleryEncodingException {
        CeleryMessage m = new CeleryMessage(task.id(), dedupKey(task.idempotencyKey()), queueKey(task), listKey(task), encode(task));
        if (!task.isBatch()) {
            return m;
        }
        java.util.List<String> members = new java.util.ArrayList<>(task.memberKeys().size());
        for (String k : task.memberKeys()) {
            members.add(dedupKey(k));
        }
        return new CeleryMessage(m, members, task);
    }

    /**
     * The envelope as JSON text (pure ASCII).
     *
     * @throws CeleryEncodingException if no stock worker could run the task as described
     */
    public String encode(CeleryTask task) throws CeleryEncodingException {
        if (!task.name().equals(lastValidName)) {
            check(TASK_NAME.matcher(task.name()).matches(), "task name '" + abbreviate(task.name()) + "' is not a valid Celery task name");
            lastValidName = task.name();
        }
        if (!task.queue().equals(lastValidQueue)) {
            check(QUEUE_NAME.matcher(task.queue()).matches(), "queue '" + abbreviate(task.queue()) + "' is not a valid queue name");
            lastValidQueue = task.queue();
        }
        JsonNode args = parse(task.argsJson(), "args");
        JsonNode kwargs = parse(task.kwargsJson(), "kwargs");
        check(args.isArray(), "args must be a JSON array, got " + args.getNodeType());
        check(kwargs.isObject(), "kwargs must be a JSON object, got " + kwargs.getNodeType());
        JsonNode callbacks = task.callbacksJson() == null ? null : parse(task.callbacksJson(), "callbacks");
        if (callbacks != null) {
            check(callbacks.isArray(), "callbacks must be a JSON array of signatures, got " + callbacks.getNodeType());
            for (JsonNode sig : callbacks) {
                check(sig.isObject() && sig.path("task").isTextual() && TASK_NAME.matcher(sig.path("task").asText()).matches(),
                        "each callback must be a signature object with a valid \"task\" name");
            }
        }
        int depth = Math.max(Math.max(depth(args), depth(kwargs)), callbacks == null ? 0 : depth(callbacks));
        check(depth <= maxNestingDepth, "arguments are nested " + depth + " deep, the maximum is " + maxNestingDepth);
        Instant now = clock.instant();
        // CeleryTask rebuilds an Instant on every call: read each once.
        Instant eta = task.eta();
        Instant expires = task.expires();
        if (eta != null) {
            check(!eta.isAfter(now.plus(maxEta)), "eta " + eta + " is more than " + maxEta
                    + " ahead: beyond the broker's visibility timeout a stock worker runs it twice");
        }
        for (Map.Entry<String, String> h : task.headers().entrySet()) {
            check(HEADER_NAME.matcher(h.getKey()).matches(), "header '" + abbreviate(h.getKey()) + "' must match x-[A-Za-z0-9_-]+");
            check(h.getValue() != null, "header '" + h.getKey() + "' has no value");
        }

        // Streamed, not built as a tree: encoding is most of the job's per-event work.
        byte[] body = PythonJson.write(task.argsJson().length() + task.kwargsJson().length() + 128, g -> {
            g.writeStartArray();
            PythonJson.writeTree(g, args);
            PythonJson.writeTree(g, kwargs);
            g.writeStartObject();
            g.writeFieldName("callbacks");
            if (callbacks == null) {
                g.writeNull();
            } else {
                PythonJson.writeTree(g, callbacks);
            }
            g.writeNullField("errbacks");
            g.writeNullField("chain");
            g.writeNullField("chord");
            g.writeEndObject();
            g.writeEndArray();
        });
        byte[] base64 = Base64.getEncoder().encode(body);
        String argsrepr = PythonRepr.ofArgs(args, REPR_MAX_CHARS);
        String kwargsrepr = PythonRepr.of(kwargs, REPR_MAX_CHARS);

        byte[] envelope = PythonJson.write(base64.length + argsrepr.length() + kwargsrepr.length() + 1024, g -> {
            g.writeStartObject();
            g.writeFieldName("body");
            g.writeRawUTF8String(base64, 0, base64.length); // base64 never needs escaping
            g.writeStringField("content-encoding", "utf-8");
            g.writeStringField("content-type", "application/json");

            g.writeObjectFieldStart("headers");
            g.writeStringField("lang", "py");
            g.writeStringField("task", task.name());
            g.writeStringField("id", task.id());
            g.writeNullField("shadow");
            writeTime(g, "eta", eta);
            writeTime(g, "expires", expires);
            g.writeNullField("group");
            g.writeNullField("group_index");
            g.writeNumberField("retries", 0);
            g.writeArrayFieldStart("timelimit");
            g.writeNull();
            g.writeNull();
            g.writeEndArray();
            g.writeStringField("root_id", task.id());
            g.writeNullField("parent_id");
            g.writeStringField("argsrepr", argsrepr);
            g.writeStringField("kwargsrepr", kwargsrepr);
            g.writeStringField("origin", origin);
            g.writeBooleanField("ignore_result", task.ignoreResult());
            for (Map.Entry<String, String> h : task.headers().entrySet()) {
                g.writeStringField(h.getKey(), h.getValue());
            }
            g.writeEndObject();

            g.writeObjectFieldStart("properties");
            g.writeStringField("correlation_id", task.id());
            g.writeStringField("reply_to", "");
            g.writeNumberField("delivery_mode", 2);
            if (expires != null) {
                // kombu sends the time left, in milliseconds, as a string.
                long ms = Math.max(0, Duration.between(now, expires).toMillis());
                g.writeStringField("expiration", Long.toString(ms));
            }
            g.writeObjectFieldStart("delivery_info");
            g.writeStringField("exchange", "");
            g.writeStringField("routing_key", task.queue());
            g.writeEndObject();
            g.writeNumberField("priority", task.priority());
            g.writeStringField("body_encoding", "base64");
            // Derived from the task id so a re-encoded task produces the very same delivery tag.
            g.writeStringField("delivery_tag", CeleryTaskIds.forKey("delivery:" + task.id()));
            g.writeEndObject();
            g.writeEndObject();
        });
        // ASCII by construction (every non-ASCII char is escaped); Latin-1 decodes it by plain copy,
        // where US-ASCII scans every byte first (8% of the task thread in a profile).
        return new String(envelope, StandardCharsets.ISO_8859_1);
    }

    private static void check(boolean ok, String reason) throws CeleryEncodingException {
        if (!ok) {
            throw new CeleryEncodingException(reason);
        }
    }

    private static int depth(JsonNode node) {
        if (!node.isContainerNode()) {
            return 0;
        }
        int max = 0;
        for (JsonNode child : node) {
            max = Math.max(max, depth(child));
        }
        return max + 1;
    }

    private static String abbreviate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 61) + "...";
    }

    private static void writeTime(JsonGenerator g, String field, Instant t) throws IOException {
        if (t == null) {
            g.writeNullField(field);
        } else {
            // Python's isoformat(): microseconds only when non-zero, offset as +00:00.
            g.writeStringField(field, (t.getNano() == 0 ? ISO_SECONDS : ISO_MICROS).format(t));
        }
    }

    private static JsonNode parse(String json, String what) throws CeleryEncodingException {
        try {
            return MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new CeleryEncodingException(what + " is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** Builder for {@link CeleryEnvelopeCodec}. */
    public static final class Builder {
        private String origin = "celery-bridge@" + localHostName();
        private String globalKeyPrefix = "";
        private String dedupKeyPrefix = DEFAULT_DEDUP_KEY_PREFIX;
        private Duration maxEta = DEFAULT_MAX_ETA;
        private int maxNestingDepth = DEFAULT_MAX_NESTING_DEPTH;
        private Clock clock = Clock.systemUTC();

        private Builder() {}

        /** The {@code origin} header workers log; default {@code celery-bridge@<host>}. */
        public Builder origin(String origin) {
            this.origin = Objects.requireNonNull(origin, "origin");
            return this;
        }

        /** kombu's {@code global_keyprefix} transport option: prefixes every queue's list key. */
        public Builder globalKeyPrefix(String prefix) {
            this.globalKeyPrefix = Objects.requireNonNull(prefix, "globalKeyPrefix");
            return this;
        }

        public Builder dedupKeyPrefix(String prefix) {
            this.dedupKeyPrefix = Objects.requireNonNull(prefix, "dedupKeyPrefix");
            return this;
        }

        /** Set it to the broker's visibility timeout when that is not kombu's default hour. */
        public Builder maxEta(Duration maxEta) {
            if (maxEta.isNegative() || maxEta.isZero()) {
                throw new IllegalArgumentException("maxEta must be positive, got " + maxEta);
            }
            this.maxEta = maxEta;
            return this;
        }

        public Builder maxNestingDepth(int depth) {
            if (depth < 1) {
                throw new IllegalArgumentException("maxNestingDepth must be >= 1, got " + depth);
            }
            this.maxNestingDepth = depth;
            return this;
        }

        Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public CeleryEnvelopeCodec build() {
            if (dedupKeyPrefix.isEmpty()) {
                throw new IllegalArgumentException("dedupKeyPrefix must not be empty: dedup keys would collide with queues");
            }
            return new CeleryEnvelopeCodec(this);
        }

        private static String localHostName() {
            try {
                return java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.net.UnknownHostException e) {
                return "unknown";
            }
        }
    }
}
