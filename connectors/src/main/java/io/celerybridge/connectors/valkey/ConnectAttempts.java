package io.celerybridge.connectors.valkey;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.api.StatefulRedisConnection;

/**
 * At most one connection attempt a second: Valkey may be down when a job starts, and that must
 * hold elements (retried by the operator) rather than block the task thread on every one or fail
 * the job. Once connected, lettuce reconnects by itself.
 */
final class ConnectAttempts {
    private static final long INTERVAL_NANOS = 1_000_000_000L;

    private final RedisClient client;
    private long lastAttemptNanos;

    ConnectAttempts(RedisClient client) {
        this.client = client;
    }

    /** A new connection, or null when the last attempt was under a second ago or this one failed. */
    synchronized StatefulRedisConnection<String, String> tryConnect() {
        long now = System.nanoTime();
        if (lastAttemptNanos != 0 && now - lastAttemptNanos < INTERVAL_NANOS) {
            return null;
        }
        lastAttemptNanos = now;
        try {
            return client.connect();
        } catch (RedisConnectionException e) {
            return null;
        }
    }
}
