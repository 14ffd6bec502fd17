package io.celerybridge.udfs.runtime;

import io.celerybridge.connectors.celery.CeleryTask;
import io.celerybridge.udfs.BatchUdf;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.UdfResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A UDF whose behaviour is written in the event ids: {@code ok-*} succeeds, {@code fail-*} fails
 * permanently, {@code retryN-*} asks for a retry N times then succeeds, {@code poison-*} makes the
 * whole batch throw, {@code hang-*} sleeps past any timeout, {@code stubborn-*} runs for
 * {@link #stubbornMs} ignoring interrupts. While {@link #OUTAGE} is set every
 * call throws. Calls are recorded for the test; state is static because Flink serializes the UDF.
 */
public class ScriptedUdf implements BatchUdf {
    private static final long serialVersionUID = 1L;

    public static volatile boolean outage;
    /** How long a {@code stubborn-*} event keeps its call running, ignoring interrupts. */
    public static volatile long stubbornMs = 3_000;
    public static final List<List<String>> CALLS = new CopyOnWriteArrayList<>();
    private static final Map<String, AtomicInteger> SEEN = new ConcurrentHashMap<>();

    public static void reset() {
        outage = false;
        stubbornMs = 3_000;
        CALLS.clear();
        SEEN.clear();
    }

    @Override
    public List<UdfResult> process(List<Event> events) throws Exception {
        List<String> ids = new ArrayList<>();
        events.forEach(e -> ids.add(e.getId()));
        CALLS.add(ids);
        if (outage) {
            throw new java.io.IOException("dependency down");
        }
        if (ids.stream().anyMatch(id -> id.startsWith("poison"))) {
            throw new IllegalStateException("cannot handle a poison event");
        }
        if (ids.stream().anyMatch(id -> id.startsWith("hang"))) {
            Thread.sleep(60_000);
        }
        if (ids.stream().anyMatch(id -> id.startsWith("stubborn"))) {
            long until = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(stubbornMs);
            while (System.nanoTime() < until) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ignored) {
                    // what a badly written UDF does
                }
            }
        }
        List<UdfResult> out = new ArrayList<>();
        for (String id : ids) {
            int seen = SEEN.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
            if (id.startsWith("fail")) {
                out.add(UdfResult.fail("BAD_EVENT", "event " + id + " is bad"));
            } else if (id.startsWith("retry") && seen <= Integer.parseInt(id.substring(5, id.indexOf('-')))) {
                out.add(UdfResult.retry("busy, try " + seen));
            } else {
                String name = id.startsWith("unencodable") ? "unencodable" : id.startsWith("b-") ? "task.b" : "task.a";
                out.add(UdfResult.tasks(CeleryTask.builder().id(id).idempotencyKey(id).name(name).build()));
            }
        }
        return out;
    }

    public static int callsWith(String id) {
        return (int) CALLS.stream().filter(c -> c.contains(id)).count();
    }
}
