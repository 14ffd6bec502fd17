package io.celerybridge.udfs.runtime;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.time.Duration;

/** How the processing stage batches, retries, times out, rate-limits and circuit-breaks. */
@PublicEvolving
public final class BatchUdfSettings implements Serializable {
    private static final long serialVersionUID = 1L;

    final int batchSize;
    final long maxLingerMs;
    final int maxBuffered;
    final int maxRetries;
    final long backoffMs;
    final long maxBackoffMs;
    final long taskTimeoutMs;
    final long rateLimit;
    final long rateWindowMs;
    final int breakerThreshold;
    final long breakerOpenForMs;

    private BatchUdfSettings(Builder b) {
        this.batchSize = b.batchSize;
        this.maxLingerMs = b.maxLinger.toMillis();
        this.maxBuffered = b.maxBuffered > 0 ? b.maxBuffered : 4 * b.batchSize;
        this.maxRetries = b.maxRetries;
        this.backoffMs = b.backoff.toMillis();
        this.maxBackoffMs = Math.max(b.backoff.toMillis(), b.maxBackoff.toMillis());
        this.taskTimeoutMs = b.taskTimeout.toMillis();
        this.rateLimit = b.rateLimit;
        this.rateWindowMs = b.rateWindow.toMillis();
        this.breakerThreshold = b.breakerThreshold;
        this.breakerOpenForMs = b.breakerOpenFor.toMillis();
        check(batchSize >= 1, "batch size must be at least 1, got " + batchSize);
        check(maxBuffered >= batchSize, "max buffered must be at least the batch size, got " + maxBuffered);
        check(maxRetries >= 0, "max retries must be >= 0, got " + maxRetries);
        check(taskTimeoutMs >= 1, "task timeout must be positive, got " + b.taskTimeout);
        check(rateLimit >= 0, "rate limit must be >= 0 (0 = none), got " + rateLimit);
        check(rateWindowMs >= 1, "rate window must be positive, got " + b.rateWindow);
        check(breakerThreshold >= 1, "circuit breaker threshold must be at least 1, got " + breakerThreshold);
        // The failure that opens the circuit costs no attempt and the streak before it is refunded,
        // but an event could still run out of retries inside a streak that has not yet opened it.
        check(breakerThreshold - 1 <= maxRetries, "circuit breaker threshold (" + breakerThreshold
                + ") must be at most max retries + 1 (" + (maxRetries + 1) + "), else an outage could exhaust retries "
                + "before the circuit opens");
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Defaults: batches of 100 or 50 ms, 5 retries from 200 ms to 30 s, 30 s timeout, no rate limit, circuit 5 / 10 s. */
    public static final class Builder {
        private int batchSize = 100;
        private Duration maxLinger = Duration.ofMillis(50);
        private int maxBuffered;
        private int maxRetries = 5;
        private Duration backoff = Duration.ofMillis(200);
        private Duration maxBackoff = Duration.ofSeconds(30);
        private Duration taskTimeout = Duration.ofSeconds(30);
        private long rateLimit;
        private Duration rateWindow = Duration.ofSeconds(1);
        private int breakerThreshold = 5;
        private Duration breakerOpenFor = Duration.ofSeconds(10);

        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        /** How long the oldest event may wait for its batch to fill. */
        public Builder maxLinger(Duration v) {
            maxLinger = v;
            return this;
        }

        /** Events held (batching or awaiting a retry) before the stage backpressures; default 4 batches. */
        public Builder maxBuffered(int v) {
            maxBuffered = v;
            return this;
        }

        public Builder maxRetries(int v) {
            maxRetries = v;
            return this;
        }

        /** First retry delay; doubles per attempt up to {@link #maxBackoff}, with jitter. */
        public Builder backoff(Duration v) {
            backoff = v;
            return this;
        }

        public Builder maxBackoff(Duration v) {
            maxBackoff = v;
            return this;
        }

        /** Longest one UDF call may take; then it is interrupted, abandoned and counted as a transient failure. */
        public Builder taskTimeout(Duration v) {
            taskTimeout = v;
            return this;
        }

        /** At most {@code limit} tasks per task name per {@code window}, job-wide; 0 = no limit. */
        public Builder rateLimit(long limit, Duration window) {
            rateLimit = limit;
            rateWindow = window;
            return this;
        }

        /** The circuit opens after {@code threshold} consecutive failed calls, for {@code openFor}, then probes. */
        public Builder circuitBreaker(int threshold, Duration openFor) {
            breakerThreshold = threshold;
            breakerOpenFor = openFor;
            return this;
        }

        public BatchUdfSettings build() {
            return new BatchUdfSettings(this);
        }
    }
}
