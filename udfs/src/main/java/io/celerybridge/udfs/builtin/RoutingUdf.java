package io.celerybridge.udfs.builtin;

import io.celerybridge.udfs.DeadLetterReason;
import io.celerybridge.connectors.celery.CeleryTask;
import io.celerybridge.connectors.celery.CeleryTaskIds;
import io.celerybridge.udfs.BatchUdf;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.UdfContext;
import io.celerybridge.udfs.UdfResult;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import org.apache.flink.annotation.PublicEvolving;

import java.io.IOException;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The built-in UDF, configured rather than coded: validates each payload against a schema, picks
 * a route by event type, and maps the payload to the task's args and kwargs. Reasons for the DLQ:
 * {@value #SCHEMA_VIOLATION}, {@value #NO_ROUTE}, {@value #MAPPING_FAILED}, {@value #INVALID_ETA}.
 *
 * <p>The task id is derived from the event id (one task per event), so a replayed event yields
 * the same task id and the sink's idempotent enqueue recognises it.
 */
@PublicEvolving
public class RoutingUdf implements BatchUdf {
    private static final long serialVersionUID = 1L;

    public static final String SCHEMA_VIOLATION = DeadLetterReason.SCHEMA_VIOLATION.name();
    public static final String NO_ROUTE = DeadLetterReason.NO_ROUTE.name();
    public static final String MAPPING_FAILED = DeadLetterReason.MAPPING_FAILED.name();
    public static final String INVALID_ETA = DeadLetterReason.INVALID_ETA.name();

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);

    private final String schemaJson;
    private final String routingJson;
    private final String defaultTask;
    private final String defaultQueue;
    private final String batchTask;
    private final int batchTaskMaxChars;

    private transient PayloadSchema schema;
    private transient RouteTable routes;
    // With no schema and payload-blind routes the payload is passed on as text, never parsed here
    // (per-event mode only: in per-batch mode one unparsable payload would fail the whole batch's task).
    private transient boolean readsPayload;
    private transient Clock clock;

    /**
     * @param schemaJson the schema (see {@link PayloadSchema}); empty for none
     * @param routingJson the routes (see {@link RouteTable}); empty for every event to {@code defaultTask}
     * @throws IllegalArgumentException naming the setting that is wrong
     */
    public RoutingUdf(String schemaJson, String routingJson, String defaultTask, String defaultQueue) {
        this(schemaJson, routingJson, defaultTask, defaultQueue, "", DEFAULT_BATCH_TASK_MAX_CHARS);
    }

    /** Per-batch mode with the default split ({@link #DEFAULT_BATCH_TASK_MAX_CHARS}). */
    public RoutingUdf(String schemaJson, String routingJson, String defaultTask, String defaultQueue, String batchTask) {
        this(schemaJson, routingJson, defaultTask, defaultQueue, batchTask, DEFAULT_BATCH_TASK_MAX_CHARS);
    }

    /** Payload characters per batch task by default: its envelope stays under 4 MiB whatever the text. */
    public static final int DEFAULT_BATCH_TASK_MAX_CHARS = 256 * 1024;
    private static final int MEMBER_OVERHEAD_CHARS = 64;

    /**
     * @param batchTask if not empty, per-batch mode: the valid events of each batch become ONE task
     *     {@code batchTask(events=[payload, ...])} on {@code defaultQueue} (no routing then); each
     *     event is still marked done by its own id, so none ever runs in two tasks
     * @param batchTaskMaxChars per-batch mode: a batch whose payloads hold more characters (plus 64 per
     *     member) is split
     *     into several tasks, so no task outgrows what the sink takes (a lone larger event still goes alone)
     */
    public RoutingUdf(String schemaJson, String routingJson, String defaultTask, String defaultQueue, String batchTask,
            int batchTaskMaxChars) {
        this.schemaJson = schemaJson == null ? "" : schemaJson;
        this.routingJson = routingJson == null ? "" : routingJson;
        this.defaultTask = defaultTask;
        this.defaultQueue = defaultQueue;
        this.batchTask = batchTask == null ? "" : batchTask;
        if (batchTaskMaxChars < 1) {
            throw new IllegalArgumentException("batchTaskMaxChars must be positive, got " + batchTaskMaxChars);
        }
        this.batchTaskMaxChars = batchTaskMaxChars;
        if (!this.batchTask.isEmpty() && !this.routingJson.isBlank()) {
            throw new IllegalArgumentException("udf.batch_task: per-batch mode sends every batch to one task, so udf.routing "
                    + "would be ignored; expected one or the other");
        }
        parse(Clock.systemUTC()); // fail at construction, i.e. at job start-up
    }

    /** Every event to {@code task(event=<payload>)} on {@code queue}. */
    public static RoutingUdf allTo(String task, String queue) {
        return new RoutingUdf("", "", task, queue);
    }

    @Override
    public void open(UdfContext context) {
        parse(Clock.systemUTC());
    }

    RoutingUdf withClock(Clock clock) {
        parse(clock);
        return this;
    }

    private void parse(Clock clock) {
        this.clock = clock;
        this.schema = new PayloadSchema(tree(schemaJson, "udf.schema"), "udf.schema");
        this.routes = new RouteTable(tree(routingJson, "udf.routing"), "udf.routing", defaultTask, defaultQueue);
        this.readsPayload = !schema.isEmpty() || routes.readsPayload();
    }

    private static JsonNode tree(String json, String path) {
        if (json.isBlank()) {
            return null;
        }
        try {
            return JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(path + ": not a valid JSON mapping: " + e.getOriginalMessage());
        }
    }

    @Override
    public List<UdfResult> process(List<Event> events) {
        if (!batchTask.isEmpty()) {
            return processAsOneTask(events);
        }
        List<UdfResult> results = new ArrayList<>(events.size());
        for (Event e : events) {
            results.add(process(e));
        }
        return results;
    }

    /**
     * Per-batch mode: valid events share one task (several, in order, when their payloads exceed
     * batchTaskMaxChars); an event id seen twice in the batch is one member.
     */
    private List<UdfResult> processAsOneTask(List<Event> events) {
        UdfResult[] results = new UdfResult[events.size()];
        java.util.Map<String, String> members = new java.util.LinkedHashMap<>();
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            try {
                String violation = schema.violation(JSON.readTree(e.getPayloadJson()));
                if (violation != null) {
                    results[i] = UdfResult.fail(SCHEMA_VIOLATION, violation);
                    continue;
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
                results[i] = UdfResult.fail(SCHEMA_VIOLATION, "payload is not JSON: " + ex.getOriginalMessage());
                continue;
            }
            members.putIfAbsent(e.getId(), e.getPayloadJson());
        }
        java.util.Map<String, UdfResult> taskOf = new java.util.HashMap<>();
        List<String> ids = new ArrayList<>();
        List<String> payloads = new ArrayList<>();
        long chars = 0;
        for (java.util.Map.Entry<String, String> m : members.entrySet()) {
            // Each member also costs its key and list overhead: counted as MEMBER_OVERHEAD_CHARS.
            long cost = m.getValue().length() + MEMBER_OVERHEAD_CHARS;
            if (!ids.isEmpty() && chars + cost > batchTaskMaxChars) {
                addBatchTask(ids, payloads, taskOf);
                ids = new ArrayList<>();
                payloads = new ArrayList<>();
                chars = 0;
            }
            ids.add(m.getKey());
            payloads.add(m.getValue());
            chars += cost;
        }
        if (!ids.isEmpty()) {
            addBatchTask(ids, payloads, taskOf);
        }
        for (int i = 0; i < results.length; i++) {
            if (results[i] == null) {
                results[i] = taskOf.get(events.get(i).getId());
            }
        }
        return java.util.Arrays.asList(results);
    }

    private void addBatchTask(List<String> ids, List<String> payloads, java.util.Map<String, UdfResult> taskOf) {
        UdfResult shared = UdfResult.tasks(CeleryTask.builder().name(batchTask).queue(defaultQueue)
                .batchOf("events", ids, payloads).build());
        for (String id : ids) {
            taskOf.put(id, shared);
        }
    }

    UdfResult process(Event event) {
        JsonNode payload = null;
        try {
            if (readsPayload) {
                payload = JSON.readTree(event.getPayloadJson());
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // The decode stage admits only JSON objects; this is a payload changed on the way.
            return UdfResult.fail(SCHEMA_VIOLATION, "payload is not JSON: " + e.getOriginalMessage());
        }
        String violation = schema.violation(payload);
        if (violation != null) {
            return UdfResult.fail(SCHEMA_VIOLATION, violation);
        }
        RouteTable.Route route = routes.route(payload);
        if (route == null) {
            return UdfResult.fail(NO_ROUTE, routes.noRouteDetail(payload));
        }
        CeleryTask.Builder task = CeleryTask.builder()
                .id(CeleryTaskIds.forKey(event.getId()))
                .idempotencyKey(event.getId())
                .name(route.task)
                .queue(route.queue)
                .ignoreResult(route.ignoreResult);
        try {
            if (!route.args.isEmpty()) {
                List<String> values = new ArrayList<>(route.args.size());
                for (int i = 0; i < route.args.size(); i++) {
                    values.add(json(event, payload, route.args.get(i), "args[" + i + "]"));
                }
                task.argsJson("[" + String.join(", ", values) + "]");
            }
            if (!route.kwargs.isEmpty()) {
                StringBuilder kw = new StringBuilder("{");
                for (Map.Entry<String, String> e : route.kwargs.entrySet()) {
                    kw.append(kw.length() == 1 ? "" : ", ").append(JSON.writeValueAsString(e.getKey())).append(": ")
                            .append(json(event, payload, e.getValue(), "kwargs." + e.getKey()));
                }
                task.kwargsJson(kw.append('}').toString());
            }
        } catch (MappingException | IOException e) {
            return UdfResult.fail(MAPPING_FAILED, e.getMessage());
        }
        if (route.priority != null) {
            task.priority(route.priority);
        }
        Instant now = clock.instant();
        if (route.countdown != null) {
            task.eta(now.plus(route.countdown));
        } else if (route.etaPointer != null) {
            JsonNode eta = payload.at(route.etaPointer);
            Instant at;
            try {
                at = eta.isNumber() ? epochSeconds(eta.decimalValue()) : OffsetDateTime.parse(eta.asText()).toInstant();
            } catch (ArithmeticException | DateTimeException e) {
                return UdfResult.fail(INVALID_ETA, "eta at " + route.etaPointer + ": expected an ISO-8601 date-time with offset "
                        + "or epoch seconds (a fraction allowed, as Python's time.time() gives), got " + shortText(eta));
            }
            if (!CeleryTask.isWorkerTime(at)) {
                return UdfResult.fail(INVALID_ETA, "eta at " + route.etaPointer + " is " + at
                        + ", outside the years 1 to 9999 a Python worker can read");
            }
            task.eta(at);
        }
        if (route.expires != null) {
            task.expires(now.plus(route.expires));
        }
        return UdfResult.tasks(task.build());
    }

    /** Epoch seconds, with a fraction to the nanosecond ({@code 1732780800.123456}). */
    private static Instant epochSeconds(java.math.BigDecimal seconds) {
        java.math.BigDecimal whole = seconds.setScale(0, java.math.RoundingMode.FLOOR);
        int nanos = seconds.subtract(whole).movePointRight(9).setScale(0, java.math.RoundingMode.DOWN).intValueExact();
        return Instant.ofEpochSecond(whole.longValueExact(), nanos);
    }

    /** What was found, for a message: the node type and at most 40 characters of it. */
    private static String shortText(JsonNode node) {
        if (node.isMissingNode()) {
            return "nothing";
        }
        String text = node.toString();
        return node.getNodeType() + " " + (text.length() > 40 ? text.substring(0, 40) + "..." : text);
    }

    /** The JSON text at {@code pointer}: the original text for the whole payload, so nothing is re-rendered. */
    private static String json(Event event, JsonNode payload, String pointer, String what) throws MappingException, IOException {
        if (pointer.isEmpty()) {
            return event.getPayloadJson();
        }
        JsonNode v = payload.at(JsonPointer.compile(pointer));
        if (v.isMissingNode()) {
            throw new MappingException(what + ": no value at " + pointer);
        }
        return JSON.writeValueAsString(v);
    }

    private static final class MappingException extends Exception {
        private static final long serialVersionUID = 1L;

        MappingException(String message) {
            super(message, null, false, false);
        }
    }
}
