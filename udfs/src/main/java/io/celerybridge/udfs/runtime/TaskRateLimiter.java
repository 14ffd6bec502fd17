package io.celerybridge.udfs.runtime;

import org.apache.flink.annotation.Internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
    private final int parallelism;
    private final Map<String, double[]> buckets = new HashMap<>(); // [tokens, last refill nanos]

    TaskRateLimiter(long limit, long windowMs, int parallelism) {
        this.perWindow = (double) limit / parallelism;
        this.perNano = perWindow / (windowMs * 1_000_000.0);
        this.parallelism = parallelism;
    }

    /** What each bucket holds now, stamped with the wall clock, for a checkpoint. */
    List<RateLimitTokens> tokens(long nowNanos, long wallNowMillis) {
        List<RateLimitTokens> out = new ArrayList<>(buckets.size());
        buckets.forEach((name, b) -> out.add(new RateLimitTokens(name, Math.min(cap(), b[0] + elapsed(b, nowNanos) * perNano),
                wallNowMillis)));
        return out;
    }

    /**
     * Starts from what the buckets of ALL subtasks held at a checkpoint (union state), so a
     * restart grants no fresh burst: per task name their sum, refilled at the job's rate for the
     * wall-clock time since, split evenly over this job's subtasks (a rescale keeps the total).
     * Never more than a full bucket.
     */
    void restore(List<RateLimitTokens> saved, long wallNowMillis, long nowNanos) {
        Map<String, double[]> sums = new HashMap<>(); // [tokens, latest atMillis]
        for (RateLimitTokens t : saved) {
            double[] sum = sums.computeIfAbsent(t.getTaskName(), k -> new double[] {0, Long.MIN_VALUE});
            sum[0] += t.getTokens();
            sum[1] = Math.max(sum[1], t.getAtMillis());
        }
        double jobPerMilli = perNano * 1_000_000.0 * parallelism;
        sums.forEach((name, sum) -> {
            long elapsedMillis = Math.max(0, wallNowMillis - (long) sum[1]);
            double share = (sum[0] + elapsedMillis * jobPerMilli) / parallelism;
            buckets.put(name, new double[] {Math.min(cap(), share), nowNanos});
        });
    }

    /** Time since the bucket's stamp; none if the clock went back (it is the stage's processing time, i.e. the wall clock). */
    private static long elapsed(double[] bucket, long nowNanos) {
        return Math.max(0, nowNanos - (long) bucket[1]);
    }

    private double cap() {
        return Math.max(1.0, perWindow);
    }

    /**
     * Takes one permit for {@code taskName}, going into debt if none is left.
     *
     * @return nanoseconds to wait before the task may go (0 if a permit was free)
     */
    long reserve(String taskName, long nowNanos) {
        double[] b = buckets.computeIfAbsent(taskName, k -> new double[] {cap(), nowNanos});
        b[0] = Math.min(cap(), b[0] + elapsed(b, nowNanos) * perNano);
        b[1] = nowNanos;
        b[0] -= 1.0;
        return b[0] >= 0 ? 0 : (long) Math.ceil(-b[0] / perNano);
    }
}
