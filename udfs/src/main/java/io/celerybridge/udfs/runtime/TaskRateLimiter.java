package io.celerybridge.udfs.runtime;

import org.apache.flink.annotation.Internal;

import java.util.HashMap;
import java.util.Map;

/**
 * A token bucket per task name holding this subtask's share of the job-wide limit: {@code limit /
 * parallelism} per window, refilled continuously, bursting up to one window's share. Shares keep
 * the job under the limit without coordination; when events spread unevenly over subtasks the job
 * stays below it. Guava's RateLimiter was not used: it smooths to a per-second rate with at most
 * one second of burst, while {@code rate_window} asks for bursts of a window.
 */
@Internal
final class TaskRateLimiter {

    private final double perWindow;
    private final double perNano;
    private final Map<String, double[]> buckets = new HashMap<>(); // [tokens, last refill nanos]

    TaskRateLimiter(long limit, long windowMs, int parallelism) {
        this.perWindow = (double) limit / parallelism;
        this.perNano = perWindow / (windowMs * 1_000_000.0);
    }

    /**
     * Takes one permit for {@code taskName}, going into debt if none is left.
     *
     * @return nanoseconds to wait before the task may go (0 if a permit was free)
     */
    long reserve(String taskName, long nowNanos) {
        double[] b = buckets.computeIfAbsent(taskName, k -> new double[] {Math.max(1.0, perWindow), nowNanos});
        b[0] = Math.min(Math.max(1.0, perWindow), b[0] + (nowNanos - (long) b[1]) * perNano);
        b[1] = nowNanos;
        b[0] -= 1.0;
        return b[0] >= 0 ? 0 : (long) Math.ceil(-b[0] / perNano);
    }
}
