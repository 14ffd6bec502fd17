package io.celerybridge.connectors.testutils;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;

import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads what real Celery workers did, from the result backend in the same Valkey: task results
 * ({@code celery-task-meta-<id>}) and the per-task execution counts the example app keeps.
 */
public final class CeleryBackendReader implements AutoCloseable {

    /** Written by examples/celery-worker on every task start. */
    public static final String EXECUTIONS_KEY = "celery-bridge:executions";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final RedisCommands<String, String> redis;

    public CeleryBackendReader(String valkeyUri) {
        this(RedisClient.create(valkeyUri));
    }

    /** Over a client of the caller's (TLS, ACL user); closed with this reader. */
    public CeleryBackendReader(RedisClient client) {
        this.client = client;
        this.connection = client.connect();
        this.redis = connection.sync();
    }

    /** The stored result ({@code status}, {@code result}, ...) of a task, or null if none yet. */
    public JsonNode result(String taskId) {
        String raw = redis.get("celery-task-meta-" + taskId);
        try {
            return raw == null ? null : JSON.readTree(raw);
        } catch (Exception e) {
            throw new IllegalStateException("result of " + taskId + " is not JSON: " + raw, e);
        }
    }

    /** How many times a worker started this task id. */
    public long executions(String taskId) {
        String n = redis.hget(EXECUTIONS_KEY, taskId);
        return n == null ? 0 : Long.parseLong(n);
    }

    /**
     * Waits until every task id has a result, or the timeout passes; returns the results found
     * (fewer than asked on timeout).
     */
    public Map<String, JsonNode> awaitResults(Collection<String> taskIds, Duration timeout) throws InterruptedException {
        Map<String, JsonNode> found = new LinkedHashMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (String id : taskIds) {
                if (!found.containsKey(id)) {
                    JsonNode r = result(id);
                    if (r != null) {
                        found.put(id, r);
                    }
                }
            }
            if (found.size() == taskIds.size() || System.nanoTime() > deadline) {
                return found;
            }
            Thread.sleep(200);
        }
    }

    public RedisCommands<String, String> redis() {
        return redis;
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown();
    }
}
