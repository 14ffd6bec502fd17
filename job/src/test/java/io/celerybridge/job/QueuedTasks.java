package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.testutils.CeleryBackendReader;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

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
     * Waits until {@code queue} holds {@code n} tasks (or the timeout), then returns how often each
     * event id (kwargs.event.id) occurs; a duplicate would have two seconds to show up.
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
