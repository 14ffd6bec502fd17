package io.celerybridge.bench;

import org.apache.flink.api.java.utils.ParameterTool;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;

import java.time.Duration;

/**
 * Watches a Celery queue fill while the job drains a pre-filled topic: throughput from the first
 * task enqueued to the last expected one (LLEN polled every 10 ms), and the warm rate from
 * half of the tasks to the last (a fresh TaskManager spends its first minute or so compiling), the
 * TaskManager's CPU over the whole window, its peak heap and RSS, and then, 3 s later, any task
 * beyond the expected count (a duplicate). Prints {@code RESULT e2e ...}; exits 1 if the queue does not fill in time.
 */
public final class EnqueueWatcher {

    private EnqueueWatcher() {}

    public static void main(String[] args) throws Exception {
        ParameterTool p = ParameterTool.fromArgs(args);
        String queue = p.getRequired("queue");
        long expected = p.getLong("expected");
        long events = p.getLong("events");
        long deadline = System.nanoTime() + p.getLong("timeout-seconds", 600) * 1_000_000_000L;
        RedisClient client = RedisClient.create(p.getRequired("valkey-uri"));
        try (StatefulRedisConnection<String, String> c = client.connect();
                TaskManagerSampler tm = new TaskManagerSampler(p.getRequired("rest"), p.getLong("tm-pid"), Duration.ofMillis(500))) {
            RedisCommands<String, String> redis = c.sync();
            long first = 0;
            long half = 0;
            double cpu0 = 0;
            double machine0 = 0;
            long depth;
            while ((depth = redis.llen(queue)) < expected) {
                if (first == 0 && depth > 0) {
                    first = System.nanoTime();
                    cpu0 = tm.cpuSeconds();
                    machine0 = TaskManagerSampler.machineBusySeconds();
                }
                if (half == 0 && depth >= expected / 2) {
                    half = System.nanoTime();
                }
                if (System.nanoTime() > deadline) {
                    System.out.printf("RESULT e2e error=timeout depth=%d expected=%d%n", depth, expected);
                    System.exit(1);
                }
                Thread.sleep(10);
            }
            long last = System.nanoTime();
            double seconds = (last - first) / 1e9;
            double tmCores = (tm.cpuSeconds() - cpu0) / seconds;
            double machineCores = (TaskManagerSampler.machineBusySeconds() - machine0) / seconds;
            Thread.sleep(3_000);
            long extra = redis.llen(queue) - expected;
            double warm = (expected - expected / 2) / ((last - half) / 1e9) * events / expected;
            System.out.printf("RESULT e2e events=%d tasks=%d seconds=%.3f rate=%.0f task_rate=%.0f warm_rate=%.0f tm_cpu_cores=%.2f "
                            + "machine_cpu_cores=%.2f heap_max_mb=%.0f rss_max_mb=%.0f extra_tasks=%d%n",
                    events, expected, seconds, events / seconds, expected / seconds, warm, tmCores, machineCores,
                    tm.maxHeapMb(), tm.maxRssMb(), extra);
        } finally {
            client.shutdown();
        }
    }
}
