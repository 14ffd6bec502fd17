package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.testutils.CeleryBackendReader;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** Reads what the job enqueued into a Celery queue no worker consumes: event ids per task. */
final class QueuedTasks {

    private static final ObjectMapper JSON = new ObjectMapper();

    private QueuedTasks() {}

    static long depth(CeleryBackendReader valkey, String queue) {
        long depth = 0;
        for (String l : CeleryEnvelopeCodec.priorityListKeys(queue)) {
            depth += valkey.redis().llen(l);
        }
        return depth;
    }

    /**
     * Waits until {@code queue} holds at least {@code n} tasks and returns the depth then; fails
     * naming {@code when} (say "before the crash") if it does not within {@code timeout}.
     */
    static long awaitDepth(CeleryBackendReader valkey, String queue, long n, Duration timeout, String when) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long depth;
        while ((depth = depth(valkey, queue)) < n) {
            if (System.nanoTime() > deadline) {
                fail("only " + depth + " tasks in " + queue + " after " + timeout.toSeconds() + " s, " + when);
            }
            Thread.sleep(200);
        }
        return depth;
    }

    /** What {@link #await} found for the events of {@link TestEvents#publish}: tasks, events missing, events enqueued twice or more. */
    record Tally(long tasks, long lost, long duplicated) {
        void assertExactlyOnce() {
            assertThat(lost).as("events lost").isZero();
            assertThat(duplicated).as("events enqueued twice").isZero();
        }
    }

    static Tally tally(Map<String, Integer> ids, String run, int n) {
        long lost = 0;
        for (int i = 0; i < n; i++) {
            if (!ids.containsKey(TestEvents.id(run, i))) {
                lost++;
            }
        }
        return new Tally(ids.values().stream().mapToLong(Integer::longValue).sum(), lost,
                ids.values().stream().mapToLong(c -> c - 1).sum());
    }

    /**
     * Waits until {@code queue} holds {@code n} tasks (or the timeout), then returns how often each
     * event id (kwargs.event.id) occurs, after two more seconds. Callers first wait for
     * {@link Settled#consumed} (the job read and checkpointed everything), except
     * SecurityITCase (its brokers need credentials for the admin API) and DecisionAcrossRestartITCase
     * (no checkpoint on purpose: its evidence is the second dead letter).
     */
    static Map<String, Integer> await(CeleryBackendReader valkey, String queue, int n, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (depth(valkey, queue) < n && System.nanoTime() < deadline) {
            Thread.sleep(500);
        }
        Thread.sleep(2_000);
        Map<String, Integer> ids = new HashMap<>();
        for (String l : CeleryEnvelopeCodec.priorityListKeys(queue)) {
            long len = valkey.redis().llen(l);
            for (long from = 0; from < len; from += 5_000) {
                for (String raw : valkey.redis().lrange(l, from, Math.min(len, from + 5_000) - 1)) {
                    JsonNode kwargs = JSON.readTree(Base64.getDecoder().decode(JSON.readTree(raw).get("body").asText())).get(1);
                    ids.merge(kwargs.get("event").get("id").asText(), 1, Integer::sum);
                }
            }
        }
        return ids;
    }

    static void delete(CeleryBackendReader valkey, String queue) {
        for (String l : CeleryEnvelopeCodec.priorityListKeys(queue)) {
            valkey.redis().del(l);
        }
    }
}
