package io.celerybridge.connectors.celery.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.metrics.Gauge;

import java.time.Duration;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * How many idempotency keys a writer keeps alive in Valkey at its recent rate: keys written per
 * second over the last minute times their TTL. Each key lives the whole TTL, so at a steady rate
 * this is what Valkey holds of them; more than {@code maxmemory} allows and the server answers OOM
 * (noeviction: the sink waits) or evicts (duplicates or lost tasks).
 *
 * <p>The gauge is this writer's share; {@link #overBudget()} scales it by the number of writers,
 * which assumes they take similar shares of the events.
 */
@Internal
public final class IdempotencyKeyProjection implements Gauge<Long> {

    static final long BUCKET_NANOS = Duration.ofSeconds(5).toNanos();
    static final int BUCKETS = 12;
    /** Warn at most this often: the condition lasts as long as the rate does. */
    static final long WARN_EVERY_NANOS = Duration.ofMinutes(10).toNanos();

    private final long ttlSeconds;
    private final long budget;
    private final int writers;
    private final LongSupplier nanoClock;
    private final long startBucket;
    private final long[] counts = new long[BUCKETS];
    private final long[] bucketOf = new long[BUCKETS];
    private long lastWarned = Long.MIN_VALUE;

    /**
     * @param budget how many idempotency keys Valkey can hold (0: unknown, never over budget)
     * @param writers how many writers share the events
     */
    public IdempotencyKeyProjection(Duration ttl, long budget, int writers, LongSupplier nanoClock) {
        this.ttlSeconds = Math.max(1, ttl.getSeconds());
        this.budget = budget;
        this.writers = Math.max(1, writers);
        this.nanoClock = nanoClock;
        this.startBucket = nanoClock.getAsLong() / BUCKET_NANOS;
        java.util.Arrays.fill(bucketOf, Long.MIN_VALUE);
    }

    /** Counts {@code keys} idempotency keys just written. */
    public synchronized void record(long keys) {
        if (keys <= 0) {
            return;
        }
        long bucket = nanoClock.getAsLong() / BUCKET_NANOS;
        int slot = (int) Math.floorMod(bucket, BUCKETS);
        if (bucketOf[slot] != bucket) {
            bucketOf[slot] = bucket;
            counts[slot] = 0;
        }
        counts[slot] += keys;
    }

    /** Keys per second over the complete buckets of the last minute; 0 until one bucket is complete. */
    synchronized double keysPerSecond() {
        long current = nanoClock.getAsLong() / BUCKET_NANOS;
        long complete = Math.min(BUCKETS, current - startBucket);
        if (complete <= 0) {
            return 0;
        }
        long sum = 0;
        for (int i = 0; i < BUCKETS; i++) {
            if (bucketOf[i] < current && bucketOf[i] >= current - complete) {
                sum += counts[i];
            }
        }
        return sum / (complete * (BUCKET_NANOS / 1e9));
    }

    /** This writer's projected live idempotency keys. */
    @Override
    public Long getValue() {
        return Math.round(keysPerSecond() * ttlSeconds);
    }

    /**
     * The projection for all writers if it exceeds the budget and no warning was due for the last
     * ten minutes; empty otherwise.
     */
    public synchronized OptionalLong overBudget() {
        if (budget <= 0) {
            return OptionalLong.empty();
        }
        long now = nanoClock.getAsLong();
        if (lastWarned != Long.MIN_VALUE && now - lastWarned < WARN_EVERY_NANOS) {
            return OptionalLong.empty();
        }
        long all = getValue() * writers;
        if (all <= budget) {
            return OptionalLong.empty();
        }
        lastWarned = now;
        return OptionalLong.of(all);
    }

    public long budget() {
        return budget;
    }

    public long ttlSeconds() {
        return ttlSeconds;
    }
}
