package io.celerybridge.bench;

import org.apache.flink.api.java.utils.ParameterTool;

import io.lettuce.core.KeyValue;
import io.lettuce.core.LMPopArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Publish→enqueue latency at a fixed offered rate, against a running job: publishes
 * {@code --rate} events per second for {@code --seconds}, each carrying its publish time, while
 * popping the Celery queue (BLMPOP, up to 200 at a time) and reading each task's event back. Events
 * of the first {@code --warmup} seconds are not counted. The queue is drained as it fills, so this
 * is also the soak: with {@code --samples-csv} the TaskManager's heap and RSS are written there
 * every {@code --sample-every} seconds, and with {@code --live-heap} its live heap (after a full
 * collection) is taken every minute from the end of the warm-up, with its least-squares trend. With
 * {@code --timeline-csv} the latency of every publish second (events, mean, max) is written there,
 * to line stalls up with checkpoints and GC.
 *
 * <p>Prints {@code RESULT latency offered=R achieved=A p50_ms=.. p95_ms=.. p99_ms=.. max_ms=.. measured=N missing=M ...}.
 */
public final class LatencyProbe {

    private static final String BODY = "\"body\": \"";
    private static final String ID = "\"id\": \"";
    private static final String TS = "\"ts\": ";

    private LatencyProbe() {}

    public static void main(String[] args) throws Exception {
        ParameterTool p = ParameterTool.fromArgs(args);
        int rate = p.getInt("rate", 5_000);
        int seconds = p.getInt("seconds", 40);
        int warmup = p.getInt("warmup", 10);
        String queue = p.getRequired("queue");
        long total = (long) rate * seconds;
        long counted = (long) rate * (seconds - warmup);
        long[] latencyMicros = new long[(int) counted];
        BenchEvents events = new BenchEvents(p.get("id-prefix", "lat-" + System.currentTimeMillis()), p.getInt("size", 1024), 0);

        RedisClient valkey = RedisClient.create(p.getRequired("valkey-uri"));
        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(p.get("service-url", "pulsar://127.0.0.1:6650")).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(p.getRequired("topic"))
                        .enableBatching(true).batchingMaxPublishDelay(1, TimeUnit.MILLISECONDS)
                        .blockIfQueueFull(true).sendTimeout(0, TimeUnit.SECONDS).create();
                StatefulRedisConnection<String, String> c = valkey.connect();
                TaskManagerSampler tm = new TaskManagerSampler(p.getRequired("rest"), p.getLong("tm-pid"),
                        Duration.ofSeconds(p.getInt("sample-every", 1)))) {
            RedisCommands<String, String> redis = c.sync();
            long firstCounted = total - counted + 1; // ids are 1-based and published in order
            Drainer drainer = new Drainer(redis, queue, firstCounted, latencyMicros, seconds + 120);
            Thread drain = new Thread(drainer, "drainer");
            drain.start();

            // Soak: the live heap (after a full collection) every minute from the end of the warm-up:
            // what is in flight moves it by ~100 MB from one moment to the next, so a trend needs
            // more than a start and an end.
            List<double[]> live = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            java.util.concurrent.ScheduledExecutorService checks = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
            if (p.has("live-heap")) {
                List<Long> times = new java.util.ArrayList<>();
                for (long at = warmup; at < seconds - 2; at += 60) {
                    times.add(at);
                }
                times.add(seconds - 2L); // and just before publishing ends
                for (long at : times) {
                    checks.schedule(() -> {
                        try {
                            live.add(new double[] {at, tm.liveHeapMb()});
                        } catch (Exception e) {
                            System.err.println("live heap: " + e);
                        }
                    }, at, TimeUnit.SECONDS);
                }
            }
            double cpu0 = tm.cpuSeconds();
            double machine0 = TaskManagerSampler.machineBusySeconds();
            long start = System.nanoTime();
            drainer.startMicros = BenchEvents.epochMicros();
            for (long i = 0; i < total; i++) {
                long due = start + i * 1_000_000_000L / rate;
                long wait;
                while ((wait = due - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(wait);
                }
                producer.sendAsync(events.next());
            }
            producer.flush();
            double elapsed = (System.nanoTime() - start) / 1e9;
            double tmCores = (tm.cpuSeconds() - cpu0) / elapsed;
            double machineCores = (TaskManagerSampler.machineBusySeconds() - machine0) / elapsed;

            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (drainer.received < total && System.nanoTime() < waitUntil) {
                Thread.sleep(50);
            }
            drainer.stop = true;
            drain.join();
            checks.shutdown();
            checks.awaitTermination(60, TimeUnit.SECONDS);
            if (p.has("samples-csv")) {
                tm.writeCsv(Path.of(p.get("samples-csv")));
            }
            if (p.has("timeline-csv")) {
                drainer.writeTimeline(Path.of(p.get("timeline-csv")));
            }
            int n = drainer.measured;
            long[] sorted = Arrays.copyOf(latencyMicros, n);
            Arrays.sort(sorted);
            System.out.printf("RESULT latency offered=%d achieved=%.0f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f max_ms=%.1f measured=%d missing=%d "
                            + "tm_cpu_cores=%.2f machine_cpu_cores=%.2f heap_max_mb=%.0f rss_max_mb=%.0f live_heap_start_mb=%.1f "
                            + "live_heap_mid_mb=%.1f live_heap_end_mb=%.1f live_heap_slope_mb_min=%.2f live_heap_samples=%d catch_up_s=%d%n",
                    rate, total / elapsed, pct(sorted, 50), pct(sorted, 95), pct(sorted, 99), n == 0 ? Double.NaN : sorted[n - 1] / 1e3,
                    n, total - drainer.received, tmCores, machineCores, tm.maxHeapMb(), tm.maxRssMb(),
                    liveAt(live, 0), liveAt(live, live.size() / 2), liveAt(live, live.size() - 1), slopePerMinute(live), live.size(),
                    drainer.catchUpSeconds(seconds));
        } finally {
            valkey.shutdown();
        }
    }

    private static double liveAt(List<double[]> samples, int i) {
        return i >= 0 && i < samples.size() ? samples.get(i)[1] : Double.NaN;
    }

    /** Least-squares slope of the live heap samples, MB per minute. */
    private static double slopePerMinute(List<double[]> samples) {
        int n = samples.size();
        if (n < 2) {
            return Double.NaN;
        }
        double mx = 0;
        double my = 0;
        for (double[] s : samples) {
            mx += s[0] / n;
            my += s[1] / n;
        }
        double sxy = 0;
        double sxx = 0;
        for (double[] s : samples) {
            sxy += (s[0] - mx) * (s[1] - my);
            sxx += (s[0] - mx) * (s[0] - mx);
        }
        return sxy / sxx * 60;
    }

    private static double pct(long[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q / 100 * sorted.length) - 1)] / 1e3;
    }

    /** Pops tasks as they arrive and records now − publish time of each counted event. */
    private static final class Drainer implements Runnable {
        private final RedisCommands<String, String> redis;
        private final String queue;
        private final long firstCounted;
        private final long[] latencyMicros;
        // Per publish second: events, summed and worst latency.
        private final int[] perSecond;
        private final long[] sumMicros;
        private final long[] maxMicros;
        volatile long startMicros;
        volatile boolean stop;
        volatile long received;
        volatile int measured;

        Drainer(RedisCommands<String, String> redis, String queue, long firstCounted, long[] latencyMicros, int timelineSeconds) {
            this.redis = redis;
            this.queue = queue;
            this.firstCounted = firstCounted;
            this.latencyMicros = latencyMicros;
            this.perSecond = new int[timelineSeconds];
            this.sumMicros = new long[timelineSeconds];
            this.maxMicros = new long[timelineSeconds];
        }

        /**
         * Seconds from the first publish until the mean latency of every later publish second is
         * under one second: how long a fresh job takes to catch up with the offered rate.
         */
        int catchUpSeconds(int seconds) {
            int last = -1;
            for (int s = 0; s < Math.min(seconds, perSecond.length); s++) {
                if (perSecond[s] > 0 && sumMicros[s] / perSecond[s] > 1_000_000) {
                    last = s;
                }
            }
            return last + 1;
        }

        /** {@code epoch_s,second,events,mean_ms,max_ms}, one line per publish second. */
        void writeTimeline(Path csv) throws java.io.IOException {
            StringBuilder out = new StringBuilder("epoch_s,second,events,mean_ms,max_ms\n");
            for (int s = 0; s < perSecond.length; s++) {
                if (perSecond[s] > 0) {
                    out.append(String.format("%d,%d,%d,%.1f,%.1f%n", startMicros / 1_000_000 + s, s, perSecond[s],
                            sumMicros[s] / 1e3 / perSecond[s], maxMicros[s] / 1e3));
                }
            }
            java.nio.file.Files.writeString(csv, out);
        }

        @Override
        public void run() {
            try {
                while (!stop) {
                    // Blocks in the server until tasks arrive: no polling to skew the machine.
                    KeyValue<String, List<String>> popped = redis.blmpop(0.1, LMPopArgs.Builder.right().count(200), queue);
                    long now = BenchEvents.epochMicros();
                    if (popped == null || !popped.hasValue()) {
                        continue;
                    }
                    for (String envelope : popped.getValue()) {
                        record(envelope, now);
                    }
                    received += popped.getValue().size();
                }
            } catch (Exception e) {
                e.printStackTrace();
                System.exit(2);
            }
        }

        /** The id and publish time of the event a process_event task carries: body = base64([[], {"event": {...}}, {...}]). */
        private void record(String envelope, long now) {
            // Only the head of the body is decoded: the event's id and ts come first. No JSON
            // parser here: on 2 cores the probe's own CPU would otherwise skew what it measures.
            int from = envelope.indexOf(BODY) + BODY.length();
            String head = new String(Base64.getDecoder().decode(envelope.substring(from, from + 240)), StandardCharsets.US_ASCII);
            int id = head.indexOf(ID) + ID.length();
            long seq = Long.parseLong(head.substring(head.lastIndexOf('-', head.indexOf('"', id)) + 1, head.indexOf('"', id)));
            int ts = head.indexOf(TS) + TS.length();
            int end = ts;
            while (Character.isDigit(head.charAt(end))) {
                end++;
            }
            long published = Long.parseLong(head.substring(ts, end));
            long latency = now - published;
            if (seq >= firstCounted && measured < latencyMicros.length) {
                latencyMicros[measured++] = latency;
            }
            int second = (int) ((published - startMicros) / 1_000_000);
            if (second >= 0 && second < perSecond.length) {
                perSecond[second]++;
                sumMicros[second] += latency;
                maxMicros[second] = Math.max(maxMicros[second], latency);
            }
        }
    }
}
