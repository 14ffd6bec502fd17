package io.celerybridge.udfs.runtime;

import org.apache.flink.annotation.Internal;

import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with equal jitter: half the delay fixed, half random, so retries spread. */
@Internal
final class RetryBackoff {

    private final long initialMs;
    private final long maxMs;

    RetryBackoff(long initialMs, long maxMs) {
        this.initialMs = initialMs;
        this.maxMs = maxMs;
    }

    /** Delay before retry number {@code attempt} (1-based). */
    long delayMs(int attempt) {
        long d = initialMs << Math.min(attempt - 1, 30);
        d = d <= 0 || d > maxMs ? maxMs : d;
        return d / 2 + ThreadLocalRandom.current().nextLong(d / 2 + 1);
    }
}
