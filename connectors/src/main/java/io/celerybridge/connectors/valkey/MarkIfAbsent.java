package io.celerybridge.connectors.valkey;

import io.celerybridge.connectors.celery.internal.ValkeyErrorClassifier;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;

/**
 * Async I/O: records a decision about an element in Valkey unless one is recorded already, in
 * one atomic step ({@code GET}, then {@code SET key value EX ttl} only if there was none), and
 * lets a {@link Outcome} decide from the value that was there before (null if none) whether the
 * element goes on. Errors complete exceptionally, for the operator's retry strategy.
 */
@PublicEvolving
public class MarkIfAbsent<T> extends RichAsyncFunction<T, T> {
    private static final long serialVersionUID = 1L;

    // Returns the value that was there, or false (nil) after setting ours.
    static final String SCRIPT = "local v = redis.call('GET', KEYS[1])\n"
            + "if v then return v end\n"
            + "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])\n"
            + "return false\n";

    /** The key and the value to record for an element. */
    public interface Marker<T> extends Serializable {
        String key(T element);

        String value(T element);
    }

    /** Whether the element goes on, given what was recorded before (null: nothing, ours is now). */
    @FunctionalInterface
    public interface Outcome<T> extends Serializable {
        boolean passes(T element, String previous);
    }

    private final ValkeyClientProvider clientProvider;
    private final Marker<T> marker;
    private final long ttlSeconds;
    private final Outcome<T> outcome;

    private transient RedisClient client;
    private transient volatile StatefulRedisConnection<String, String> connection;
    private transient ConnectAttempts connectAttempts;

    public MarkIfAbsent(ValkeyClientProvider clientProvider, Marker<T> marker, Duration ttl, Outcome<T> outcome) {
        if (ttl.getSeconds() < 1) {
            throw new IllegalArgumentException("ttl must be at least a second, got " + ttl);
        }
        this.clientProvider = clientProvider;
        this.marker = marker;
        this.ttlSeconds = ttl.getSeconds();
        this.outcome = outcome;
    }

    @Override
    public void open(Configuration parameters) {
        client = clientProvider.createClient();
        connectAttempts = new ConnectAttempts(client);
    }

    @Override
    public void asyncInvoke(T element, ResultFuture<T> result) {
        StatefulRedisConnection<String, String> on = currentConnection();
        if (on == null) {
            result.completeExceptionally(new io.lettuce.core.RedisConnectionException("Valkey is not reachable (yet)"));
            return;
        }
        // EVAL, not EVALSHA: dead letters are rare, and no NOSCRIPT can follow a server restart.
        on.async().<String>eval(SCRIPT, ScriptOutputType.VALUE, new String[] {marker.key(element)},
                        marker.value(element), Long.toString(ttlSeconds))
                .whenComplete((previous, error) -> {
                    if (error != null) {
                        if (ValkeyErrorClassifier.isReadOnly(error)) {
                            replace(on);
                        }
                        result.completeExceptionally(error instanceof Exception ? (Exception) error : new RuntimeException(error));
                    } else {
                        result.complete(outcome.passes(element, previous) ? List.of(element) : List.of());
                    }
                });
    }

    /** The open connection, or a new one (at most one attempt a second); null if Valkey is not reachable. */
    private StatefulRedisConnection<String, String> currentConnection() {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null) {
            c = connectAttempts.tryConnect();
            connection = c;
        }
        return c;
    }

    /**
     * READONLY: the connection reaches a demoted primary, which lettuce does not reconnect from by
     * itself. The retry connects anew, resolving the primary again (through the Sentinels for a
     * {@code redis-sentinel://} URI); retrying on this connection would be refused forever.
     */
    private synchronized void replace(StatefulRedisConnection<String, String> readOnly) {
        if (connection == readOnly) {
            connection = null;
            readOnly.closeAsync();
        }
    }

    /** For the retry strategy: retry what an outage causes, never a programming error. */
    public static boolean isTransient(Throwable error) {
        return KeyAbsentFilter.isTransient(error);
    }

    @Override
    public void close() {
        if (connection != null) {
            connection.close();
        }
        if (client != null) {
            client.shutdown();
        }
    }

    /** Fail-open: an element is never held or lost for want of its mark. */
    @Override
    public void timeout(T element, ResultFuture<T> result) {
        result.complete(List.of(element));
    }
}
