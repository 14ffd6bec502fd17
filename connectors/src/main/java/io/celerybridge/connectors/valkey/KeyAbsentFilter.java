package io.celerybridge.connectors.valkey;

import io.celerybridge.connectors.celery.internal.ValkeyErrorClassifier;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Async I/O: passes an element on only if its key does NOT exist in Valkey; drops it (counted
 * in {@code duplicatesDropped}) if it does. It only reads: whatever marks keys (the Celery sink,
 * atomically with the enqueue) is elsewhere, so a crash here can never lose an element.
 *
 * <p>A bounded in-process near-cache remembers keys it found, for as long as Valkey will keep them
 * (their PTTL, at most the dedup TTL), so repeats of done elements cost no round trip. Keys it
 * passed are not remembered: an element passed on may still be dead-lettered, and a replay of it
 * must get through. Errors complete the call exceptionally, for the operator's retry strategy;
 * on {@link #timeout} the element is passed on (fail-open): the check is an optimisation, the
 * sink's atomic enqueue is the guarantee, and during an outage the sink holds and retries what
 * reaches it, which backpressures the job. Nothing is dropped or dead-lettered for an outage.
 */
@PublicEvolving
public class KeyAbsentFilter<T> extends RichAsyncFunction<T, T> {
    private static final long serialVersionUID = 1L;

    /** Extracts the key to look up; serializable so it ships with the job. */
    @FunctionalInterface
    public interface KeyFunction<T> extends Function<T, String>, Serializable {}

    static final int FLUSH_EVERY = 32;

    private final ValkeyClientProvider clientProvider;
    private final KeyFunction<T> keyFunction;
    private final int nearCacheSize;
    private final long nearCacheTtlMillis;

    private transient RedisClient client;
    private transient StatefulRedisConnection<String, String> connection;
    private transient volatile RedisAsyncCommands<String, String> commands;
    private transient long lastConnectAttemptNanos;
    private transient AtomicInteger unflushed;
    private transient ScheduledFuture<?> flusher;
    // key -> System.nanoTime() at which Valkey forgets it
    private transient Map<String, Long> nearCache;
    private transient Counter duplicatesDropped;
    private transient Counter nearCacheHits;
    private transient Counter lookupErrors;
    private transient Counter timeouts;

    /**
     * @param nearCacheSize keys remembered in process; 0 disables the near-cache
     * @param nearCacheTtl the longest a found key is remembered (the TTL the marks are set with)
     */
    public KeyAbsentFilter(ValkeyClientProvider clientProvider, KeyFunction<T> keyFunction, int nearCacheSize,
            java.time.Duration nearCacheTtl) {
        if (nearCacheSize < 0) {
            throw new IllegalArgumentException("nearCacheSize must be >= 0, got " + nearCacheSize);
        }
        if (nearCacheTtl.isNegative()) {
            throw new IllegalArgumentException("nearCacheTtl must be >= 0, got " + nearCacheTtl);
        }
        this.clientProvider = clientProvider;
        this.keyFunction = keyFunction;
        this.nearCacheSize = nearCacheSize;
        this.nearCacheTtlMillis = nearCacheTtl.toMillis();
    }

    @Override
    public void open(Configuration parameters) {
        client = clientProvider.createClient();
        unflushed = new AtomicInteger();
        tryConnect();
        flusher = client.getResources().eventExecutorGroup().scheduleAtFixedRate(this::flush, 1, 1, TimeUnit.MILLISECONDS);
        nearCache = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
                return size() > nearCacheSize;
            }
        });
        duplicatesDropped = getRuntimeContext().getMetricGroup().counter("duplicatesDropped");
        nearCacheHits = getRuntimeContext().getMetricGroup().counter("dedupNearCacheHits");
        lookupErrors = getRuntimeContext().getMetricGroup().counter("dedupLookupErrors");
        timeouts = getRuntimeContext().getMetricGroup().counter("dedupTimeoutsPassedOn");
    }

    @Override
    public void asyncInvoke(T element, ResultFuture<T> result) {
        String key = keyFunction.apply(element);
        if (nearCacheSize > 0 && remembered(key)) {
            nearCacheHits.inc();
            duplicatesDropped.inc();
            result.complete(List.of());
            return;
        }
        if (commands == null && !tryConnect()) {
            lookupErrors.inc();
            result.completeExceptionally(new io.lettuce.core.RedisConnectionException("Valkey is not reachable (yet)"));
            return;
        }
        // PTTL, not EXISTS: the same round trip also says how long the mark lives.
        RedisFuture<Long> pttl = commands.pttl(key);
        if (unflushed.incrementAndGet() >= FLUSH_EVERY) {
            flush();
        }
        pttl.whenComplete((ms, error) -> {
            if (error != null) {
                lookupErrors.inc();
                result.completeExceptionally(error instanceof Exception ? (Exception) error : new RuntimeException(error));
            } else if (ms == -2) {
                result.complete(List.of(element));
            } else {
                if (nearCacheSize > 0) {
                    long keep = ms < 0 ? nearCacheTtlMillis : Math.min(ms, nearCacheTtlMillis);
                    nearCache.put(key, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(keep));
                }
                duplicatesDropped.inc();
                result.complete(List.of());
            }
        });
    }

    private boolean remembered(String key) {
        Long forgetAt = nearCache.get(key);
        if (forgetAt == null) {
            return false;
        }
        if (System.nanoTime() - forgetAt < 0) {
            return true;
        }
        nearCache.remove(key);
        return false;
    }

    private void flush() {
        if (commands != null && unflushed.getAndSet(0) > 0) {
            connection.flushCommands();
        }
    }

    /**
     * Connects at most once a second: Valkey may be down when the job starts, and that must hold
     * events (retries, then pass-on at timeout) rather than fail the job. Once connected, lettuce
     * reconnects by itself.
     */
    private synchronized boolean tryConnect() {
        if (commands != null) {
            return true;
        }
        long now = System.nanoTime();
        if (lastConnectAttemptNanos != 0 && now - lastConnectAttemptNanos < 1_000_000_000L) {
            return false;
        }
        lastConnectAttemptNanos = now;
        try {
            connection = client.connect();
            connection.setAutoFlushCommands(false);
            commands = connection.async();
            return true;
        } catch (io.lettuce.core.RedisConnectionException e) {
            return false;
        }
    }

    @Override
    public void timeout(T element, ResultFuture<T> result) {
        timeouts.inc();
        result.complete(List.of(element));
    }

    /** For the retry strategy: retry what an outage causes, never a programming error. */
    public static boolean isTransient(Throwable error) {
        return ValkeyErrorClassifier.fatalReason(error).isEmpty();
    }

    @Override
    public void close() {
        if (flusher != null) {
            flusher.cancel(false);
        }
        if (connection != null) {
            connection.close();
        }
        if (client != null) {
            client.shutdown();
        }
    }
}
