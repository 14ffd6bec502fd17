package io.celerybridge.udfs.builtin;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which task an event becomes, by its type, from configuration:
 *
 * <pre>
 * type_pointer: /type
 * routes:
 *   order.created: {task: shop.orders.created, queue: orders, priority: 3,
 *                   args: [/order_id], kwargs: {amount: /amount}, countdown: 30s, expires: 1h}
 *   invoice.due:   {task: billing.remind, eta_pointer: /due_at}
 *   "*":           {task: celery_bridge.process_event}    # any other type; without it: NO_ROUTE
 * </pre>
 *
 * A route without {@code args} or {@code kwargs} passes the whole payload as {@code event=}. With
 * no routes at all, every event goes to the default task and queue.
 */
final class RouteTable {

    static final String ANY = "*";
    private static final Set<String> KEYS = Set.of("type_pointer", "routes");
    private static final Set<String> ROUTE_KEYS = Set.of(
            "task", "queue", "priority", "args", "kwargs", "countdown", "eta_pointer", "expires", "ignore_result");

    private final JsonPointer typePointer;
    private final String typePointerText;
    private final Map<String, Route> routes = new HashMap<>();

    RouteTable(JsonNode spec, String path, String defaultTask, String defaultQueue) {
        if (spec == null || spec.isNull() || spec.isMissingNode() || spec.isEmpty()) {
            typePointerText = "";
            typePointer = JsonPointer.empty();
            routes.put(ANY, new Route(defaultTask, defaultQueue));
            return;
        }
        SpecReader.onlyKeys(spec, path, KEYS);
        typePointerText = spec.has("type_pointer") ? SpecReader.pointer(spec.get("type_pointer"), path + ".type_pointer") : "/type";
        typePointer = JsonPointer.compile(typePointerText);
        JsonNode rs = spec.path("routes");
        SpecReader.requireObject(rs, path + ".routes");
        if (rs.isEmpty()) {
            throw new IllegalArgumentException(path + ".routes: expected at least one route");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = rs.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            routes.put(e.getKey(), new Route(e.getValue(), path + ".routes." + e.getKey(), defaultQueue));
        }
    }

    /** Whether routing or mapping looks into the payload (else every event maps the same way). */
    boolean readsPayload() {
        if (!typePointerText.isEmpty()) {
            return true;
        }
        for (Route r : routes.values()) {
            if (r.etaPointer != null || r.args.stream().anyMatch(p -> !p.isEmpty()) || r.kwargs.values().stream().anyMatch(p -> !p.isEmpty())) {
                return true;
            }
        }
        return false;
    }

    /** @return the route, or null with {@link #noRouteDetail} explaining */
    Route route(JsonNode payload) {
        if (typePointerText.isEmpty()) {
            return routes.get(ANY);
        }
        JsonNode type = payload.at(typePointer);
        Route r = type.isValueNode() && !type.isNull() ? routes.get(type.asText()) : null;
        return r != null ? r : routes.get(ANY);
    }

    String noRouteDetail(JsonNode payload) {
        JsonNode type = payload.at(typePointer);
        return type.isMissingNode() ? "no event type at " + typePointerText + " and no '*' route"
                : "event type " + abbreviated(type) + " at " + typePointerText + " has no route and there is no '*' route";
    }

    private static String abbreviated(JsonNode v) {
        String s = v.toString();
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    /** One route: task name, queue, priority, timing and the payload mapping. */
    static final class Route {
        final String task;
        final String queue;
        final Integer priority;
        final List<String> args = new ArrayList<>();
        final Map<String, String> kwargs = new LinkedHashMap<>();
        final Duration countdown;
        final String etaPointer;
        final Duration expires;
        final boolean ignoreResult;

        Route(String task, String queue) {
            this.task = task;
            this.queue = queue;
            this.priority = null;
            this.kwargs.put("event", "");
            this.countdown = null;
            this.etaPointer = null;
            this.expires = null;
            this.ignoreResult = false;
        }

        Route(JsonNode spec, String path, String defaultQueue) {
            SpecReader.onlyKeys(spec, path, ROUTE_KEYS);
            if (!spec.has("task")) {
                throw new IllegalArgumentException(path + ": 'task' is required (the Celery task name)");
            }
            task = SpecReader.text(spec.get("task"), path + ".task");
            queue = spec.has("queue") ? SpecReader.text(spec.get("queue"), path + ".queue") : defaultQueue;
            priority = spec.has("priority") ? SpecReader.integer(spec.get("priority"), path + ".priority", 0, 9) : null;
            if (spec.has("args")) {
                if (!spec.get("args").isArray()) {
                    throw new IllegalArgumentException(path + ".args: expected a list of JSON pointers, got " + spec.get("args"));
                }
                for (JsonNode a : spec.get("args")) {
                    args.add(SpecReader.pointer(a, path + ".args"));
                }
            }
            if (spec.has("kwargs")) {
                SpecReader.requireObject(spec.get("kwargs"), path + ".kwargs");
                spec.get("kwargs").fields().forEachRemaining(
                        e -> kwargs.put(e.getKey(), SpecReader.pointer(e.getValue(), path + ".kwargs." + e.getKey())));
            }
            if (args.isEmpty() && kwargs.isEmpty()) {
                kwargs.put("event", "");
            }
            countdown = spec.has("countdown") ? SpecReader.duration(spec.get("countdown"), path + ".countdown") : null;
            etaPointer = spec.has("eta_pointer") ? SpecReader.pointer(spec.get("eta_pointer"), path + ".eta_pointer") : null;
            if (countdown != null && etaPointer != null) {
                throw new IllegalArgumentException(path + ": set 'countdown' or 'eta_pointer', not both");
            }
            expires = spec.has("expires") ? SpecReader.duration(spec.get("expires"), path + ".expires") : null;
            if (spec.has("ignore_result") && !spec.get("ignore_result").isBoolean()) {
                throw new IllegalArgumentException(path + ".ignore_result: expected true or false, got " + spec.get("ignore_result"));
            }
            ignoreResult = spec.path("ignore_result").asBoolean(false);
        }
    }
}
