package io.celerybridge.connectors.valkey;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.streaming.api.functions.async.AsyncRetryStrategy;

import java.util.Collection;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Exponential backoff for async I/O retries, computed from the attempt number alone. Flink's
 * {@code AsyncRetryStrategies.ExponentialBackoffDelayRetryStrategy} keeps ONE mutable delay per
 * instance, shared by every in-flight element of the operator: under concurrency each element's
 * retry pushes the shared delay up for all the others.
 */
@PublicEvolving
public final class StatelessExponentialBackoff<T> implements AsyncRetryStrategy<T> {
    private static final long serialVersionUID = 1L;

    private final int maxAttempts;
    private final long initialDelayMs;
    private final long maxDelayMs;
    private final RetryOn retryOn;

    /** Which errors to retry; serializable so it ships with the job. */
    @FunctionalInterface
    public interface RetryOn extends Predicate<Throwable>, java.io.Serializable {}

    public StatelessExponentialBackoff(int maxAttempts, long initialDelayMs, long maxDelayMs, RetryOn retryOn) {
        if (maxAttempts < 1 || initialDelayMs < 1 || maxDelayMs < initialDelayMs) {
            throw new IllegalArgumentException("need maxAttempts >= 1 and 1 <= initialDelayMs <= maxDelayMs, got "
                    + maxAttempts + ", " + initialDelayMs + ", " + maxDelayMs);
        }
        this.maxAttempts = maxAttempts;
        this.initialDelayMs = initialDelayMs;
        this.maxDelayMs = maxDelayMs;
        this.retryOn = retryOn;
    }

    @Override
    public boolean canRetry(int currentAttempts) {
        return currentAttempts < maxAttempts;
    }

    @Override
    public long getBackoffTimeMillis(int currentAttempts) {
        double delay = initialDelayMs * Math.pow(2, Math.min(Math.max(currentAttempts - 1, 0), 30));
        return (long) Math.min(delay, maxDelayMs);
    }

    @Override
    public org.apache.flink.streaming.api.functions.async.AsyncRetryPredicate<T> getRetryPredicate() {
        return new org.apache.flink.streaming.api.functions.async.AsyncRetryPredicate<>() {
            @Override
            public Optional<Predicate<Collection<T>>> resultPredicate() {
                return Optional.empty();
            }

            @Override
            public Optional<Predicate<Throwable>> exceptionPredicate() {
                return Optional.of(retryOn::test);
            }
        };
    }
}
