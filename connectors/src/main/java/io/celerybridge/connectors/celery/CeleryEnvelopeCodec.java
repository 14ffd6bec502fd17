package io.celerybridge.connectors.celery;

import io.celerybridge.connectors.celery.internal.PythonRepr;

import org.apache.flink.annotation.PublicEvolving;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Map;

/**
 * Encodes a {@link CeleryTask} as the message kombu's Redis transport LPUSHes: a JSON envelope
 * with a base64 body {@code [args, kwargs, embed]}, Celery task protocol v2 headers, and the
 * transport properties a stock worker needs ({@code delivery_tag}, {@code delivery_info}).
 *
 * <p>Golden data in {@code shared/celery-fixtures} (Celery 5.2.6) defines the format.
 */
@PublicEvolving
public final class CeleryEnvelopeCodec implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Celery's own bound for argsrepr/kwargsrepr ({@code argsrepr_maxsize}). */
    public static final int REPR_MAX_CHARS = 1024;

    /** kombu's priority separator: {@code <queue>\x06\x16<bucket>}. */
    static final String PRIORITY_SEPARATOR = "\u0006\u0016";

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final DateTimeFormatter ISO_SECONDS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxxx").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter ISO_MICROS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSxxx").withZone(ZoneOffset.UTC);

    private final String origin;

    /** @param origin the {@code origin} header, conventionally {@code name@host} */
    public CeleryEnvelopeCodec(String origin) {
        this.origin = origin;
    }

    /** The Valkey list the task goes to: the queue, or its priority bucket. */
    public String listKey(CeleryTask task) {
        int bucket = priorityBucket(task.priority());
        return bucket == 0 ? task.queue() : task.queue() + PRIORITY_SEPARATOR + bucket;
    }

    /** kombu's default priority steps are 0, 3, 6, 9; a priority goes to the step at or below it. */
    static int priorityBucket(int priority) {
        return priority >= 9 ? 9 : (priority / 3) * 3;
    }

    /**
     * The envelope as JSON text.
     *
     * @throws CeleryEncodingException if the task's arguments are not a JSON array and object
     */
    public String encode(CeleryTask task) throws CeleryEncodingException {
        JsonNode args = parse(task.argsJson(), "args");
        JsonNode kwargs = parse(task.kwargsJson(), "kwargs");
        if (!args.isArray()) {
            throw new CeleryEncodingException("args must be a JSON array, got " + args.getNodeType());
        }
        if (!kwargs.isObject()) {
            throw new CeleryEncodingException("kwargs must be a JSON object, got " + kwargs.getNodeType());
        }

        ArrayNode body = NODES.arrayNode();
        body.add(args);
        body.add(kwargs);
        ObjectNode embed = body.addObject();
        embed.putNull("callbacks");
        embed.putNull("errbacks");
        embed.putNull("chain");
        embed.putNull("chord");

        ObjectNode envelope = NODES.objectNode();
        envelope.put("body", Base64.getEncoder().encodeToString(writeBytes(body)));
        envelope.put("content-encoding", "utf-8");
        envelope.put("content-type", "application/json");

        ObjectNode headers = envelope.putObject("headers");
        headers.put("lang", "py");
        headers.put("task", task.name());
        headers.put("id", task.id());
        headers.putNull("shadow");
        putTime(headers, "eta", task.eta());
        putTime(headers, "expires", task.expires());
        headers.putNull("group");
        headers.putNull("group_index");
        headers.put("retries", 0);
        ArrayNode timelimit = headers.putArray("timelimit");
        timelimit.addNull();
        timelimit.addNull();
        headers.put("root_id", task.id());
        headers.putNull("parent_id");
        headers.put("argsrepr", PythonRepr.ofArgs(args, REPR_MAX_CHARS));
        headers.put("kwargsrepr", PythonRepr.of(kwargs, REPR_MAX_CHARS));
        headers.put("origin", origin);
        headers.put("ignore_result", task.ignoreResult());
        for (Map.Entry<String, String> h : task.headers().entrySet()) {
            headers.put(h.getKey(), h.getValue());
        }

        ObjectNode properties = envelope.putObject("properties");
        properties.put("correlation_id", task.id());
        properties.put("reply_to", "");
        properties.put("delivery_mode", 2);
        ObjectNode deliveryInfo = properties.putObject("delivery_info");
        deliveryInfo.put("exchange", "");
        deliveryInfo.put("routing_key", task.queue());
        properties.put("priority", task.priority());
        properties.put("body_encoding", "base64");
        // Derived from the task id so a retried write produces the very same bytes.
        properties.put("delivery_tag", CeleryTaskIds.forKey("delivery:" + task.id()));

        return new String(writeBytes(envelope), StandardCharsets.UTF_8);
    }

    private static void putTime(ObjectNode headers, String field, Instant t) {
        if (t == null) {
            headers.putNull(field);
        } else {
            // Python's isoformat(): microseconds only when non-zero, offset as +00:00.
            headers.put(field, (t.getNano() == 0 ? ISO_SECONDS : ISO_MICROS).format(t));
        }
    }

    private static JsonNode parse(String json, String what) throws CeleryEncodingException {
        try {
            return MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new CeleryEncodingException(what + " is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static byte[] writeBytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }
}
