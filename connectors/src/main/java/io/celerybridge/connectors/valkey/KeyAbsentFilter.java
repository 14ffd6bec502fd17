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
 * Async I/O: passes an element on if its key does NOT exist in Valkey; if it does, a
 * {@link FoundPolicy} given the key's value decides (by default the element is dropped, counted
 * in {@code duplicatesDropped}). It only reads: whatever marks keys (the Celery sink,
 * atomically with the enqueue) is elsewhere, so a crash here can never lose an element.
 *
 * <p>A bounded in-process near-cache remembers keys it found and dropped, for as long as Valkey will
 * keep them (their PTTL, at most the dedup TTL), so repeats of done elements cost no round trip. Keys it
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

    /**
     * What to do with an element whose key exists: return it (or another element) to pass it on,
     * or null to drop it. The default drops every one.
     */
    @FunctionalInterface
    public interface FoundPolicy<T> extends Serializable {
        T onFound(T element, String value);
    }

    static final int FLUSH_EVERY = 32;

    private final ValkeyClientProvider clientProvider;
    private final KeyFunction<T> keyFunction;
    private final int nearCacheSize;
    private final long nearCacheTtlMillis;
    private final FoundPolicy<T> foundPolicy;

    private transient RedisClient client;
    private transient StatefulRedisConnection<String, String> connection;
    private transient volatile RedisAsyncCommands<String, String> commands;
    private transient ConnectAttempts connectAttempts;
    private transient AtomicInteger unflushed;
    private transient ScheduledFuture<?> flusher;
    private transient Map<String, Remembered> nearCache;
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
        this(clientProvider, keyFunction, nearCacheSize, nearCacheTtl, (element, value) -> null);
    }

    /** @param foundPolicy what happens to an element whose key exists, given the key's value */
    public KeyAbsentFilter(ValkeyClientProvider clientProvider, KeyFunction<T> keyFunction, int nearCacheSize,
            java.time.Duration nearCacheTtl, FoundPolicy<T> foundPolicy) {
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
        this.foundPolicy = foundPolicy;
    }

    /** A found key's value and the System.nanoTime() at which Valkey forgets it. */
    private static final class Remembered {
        final String value;
        final long forgetAt;

        Remembered(String value, long forgetAt) {
            this.value = value;
            this.forgetAt = forgetAt;
        }
    }

    @Override
    public void open(Configuration parameters) {
        client = clientProvider.createClient();
        unflushed = new AtomicInteger();
        connectAttempts = new ConnectAttempts(client);
        tryConnect();
        flusher = client.getResources().eventExecutorGroup().scheduleAtFixedRate(this::flush, 1, 1, TimeUnit.MILLISECONDS);
        nearCache = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Remembered> eldest) {
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
        if (nearCacheSize > 0 && remembered(key) != null) {
            nearCacheHits.inc();
            complete(null, result);
            return;
        }
        if (commands == null && !tryConnect()) {
            lookupErrors.inc();
            result.completeExceptionally(new io.lettuce.core.RedisConnectionException("Valkey is not reachable (yet)"));
            return;
        }
        // The value says what became of the element; PTTL, in the same flush, how long that is remembered.
        RedisFuture<String> value = commands.get(key);
        RedisFuture<Long> pttl = commands.pttl(key);
        if (unflushed.addAndGet(2) >= FLUSH_EVERY) {
            flush();
        }
        value.toCompletableFuture().thenCombine(pttl.toCompletableFuture(), (v, ms) -> {
            if (v == null) {
                result.complete(List.of(element));
                return null;
            }
            T passed = foundPolicy.onFound(element, v);
            // Only what is dropped is remembered: a value that lets elements through may change
            // (the DLQ replay clears a dead letter's mark), and the next element must see that.
            if (passed == null && nearCacheSize > 0) {
                long keep = ms < 0 ? nearCacheTtlMillis : Math.min(ms, nearCacheTtlMillis);
                nearCache.put(key, new Remembered(v, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(keep)));
            }
            complete(passed, result);
            return null;
        }).exceptionally(error -> {
            lookupErrors.inc();
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
            result.completeExceptionally(cause instanceof Exception ? (Exception) cause : new RuntimeException(cause));
            return null;
        });
    }

    private void complete(T passed, ResultFuture<T> result) {
        if (passed == null) {
            duplicatesDropped.inc();
            result.complete(List.of());
        } else {
            result.complete(List.of(passed));
        }
    }

    private Remembered remembered(String key) {
        Remembered r = nearCache.get(key);
        if (r == null) {
            return null;
        }
        if (System.nanoTime() - r.forgetAt < 0) {
            return r;
        }
        nearCache.remove(key);
        return null;
    }

    private void flush() {
        if (commands != null && unflushed.getAndSet(0) > 0) {
            connection.flushCommands();
        }
    }

    private synchronized boolean tryConnect() {
        if (commands != null) {
            return true;
        }
        StatefulRedisConnection<String, String> c = connectAttempts.tryConnect();
        if (c == null) {
            return false;
        }
        c.setAutoFlushCommands(false);
        connection = c;
        commands = c.async();
        return true;
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
