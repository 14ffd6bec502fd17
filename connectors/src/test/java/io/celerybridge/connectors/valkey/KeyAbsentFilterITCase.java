package io.celerybridge.connectors.valkey;

import io.celerybridge.connectors.testutils.TestServers;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The read-only idempotency check on a real Valkey, and what it does during an outage. */
class KeyAbsentFilterITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @Test
    void dropsKeysThatExistAndPassesEveryOccurrenceOfKeysThatDoNot() throws Exception {
        String run = UUID.randomUUID().toString();
        RedisClient client = RedisClient.create(TestServers.valkeyUri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            for (int i = 0; i < 100; i += 3) {
                c.sync().set(run + ":" + i, "1");
            }
        } finally {
            client.shutdown();
        }
        List<String> input = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            input.add(run + ":" + i);
        }
        input.addAll(input.subList(0, 50)); // repeats, later in the stream

        List<String> passed = run(input, TestServers.valkeyUri(), 1_000, 1000);
        List<String> expected = new ArrayList<>();
        for (String key : input) {
            if (Integer.parseInt(key.substring(run.length() + 1)) % 3 != 0) {
                expected.add(key);
            }
        }
        // A key not done yet may still be dead-lettered, and its replay must get through: repeats
        // of absent keys pass (the sink's atomic enqueue drops what was enqueued meanwhile).
        assertThat(passed).as("present keys and their repeats dropped; absent ones passed each time")
                .containsExactlyInAnyOrderElementsOf(expected);
        assertThat(Valkey.exists(run + ":1")).as("the check never writes").isFalse();
    }

    @Test
    void aFoundKeyIsRememberedOnlyAsLongAsValkeyKeepsIt() throws Exception {
        String key = UUID.randomUUID() + ":short-lived";
        RedisClient client = RedisClient.create(TestServers.valkeyUri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            c.sync().psetex(key, 1_500, "1");
        } finally {
            client.shutdown();
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        java.util.concurrent.CompletableFuture<List<String>> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return AsyncDataStream.unorderedWaitWithRetry(
                                env.addSource(new EmitThenIdle(List.of(key, key, "pause:2500", key))).returns(String.class),
                                new KeyAbsentFilter<String>(ValkeyClientProvider.forUri(TestServers.valkeyUri()), k -> k, 1000,
                                        java.time.Duration.ofHours(1)),
                                5_000, TimeUnit.MILLISECONDS, 10,
                                new StatelessExponentialBackoff<>(Integer.MAX_VALUE, 20, 200, KeyAbsentFilter::isTransient))
                        .executeAndCollect(1);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        // Found twice (the second from the near-cache), then Valkey forgets it: the third gets through.
        assertThat(out.get(60, TimeUnit.SECONDS)).containsExactly(key);
    }

    @Test
    void aValueThatLetsElementsThroughIsNeverRememberedSoItsRemovalIsSeen() throws Exception {
        String key = UUID.randomUUID() + ":dead-lettered";
        RedisClient client = RedisClient.create(TestServers.valkeyUri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            c.sync().set(key, "dlq:SCHEMA_VIOLATION");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.setParallelism(1);
            java.util.concurrent.CompletableFuture<List<String>> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return AsyncDataStream.unorderedWaitWithRetry(
                                    env.addSource(new EmitThenIdle(List.of(key, "pause:3000", key))).returns(String.class),
                                    new KeyAbsentFilter<String>(ValkeyClientProvider.forUri(TestServers.valkeyUri()), k -> k, 1000,
                                            java.time.Duration.ofHours(1), (element, value) -> value.startsWith("dlq:") ? element + "|" + value : null),
                                    5_000, TimeUnit.MILLISECONDS, 10,
                                    new StatelessExponentialBackoff<>(Integer.MAX_VALUE, 20, 200, KeyAbsentFilter::isTransient))
                            .executeAndCollect(2);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(1_500);
            c.sync().del(key); // as the DLQ replay clears a dead letter's mark
            // The first passes with its mark; the second finds nothing (a remembered mark would re-route it).
            assertThat(out.get(60, TimeUnit.SECONDS)).containsExactly(key + "|dlq:SCHEMA_VIOLATION", key);
        } finally {
            client.shutdown();
        }
    }

    @Test
    void anOutagePassesEventsOnInsteadOfDroppingThem() throws Exception {
        List<String> input = List.of("a", "b", "c", "d");
        // Nothing listens on port 1: every lookup fails, is retried, then times out. The source
        // stays open, as in a streaming job (at end of input Flink stops retrying).
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        long start = System.nanoTime();
        List<String> out = AsyncDataStream.unorderedWaitWithRetry(
                        env.addSource(new EmitThenIdle(input)).returns(String.class),
                        new KeyAbsentFilter<String>(ValkeyClientProvider.forUri("redis://127.0.0.1:1/0?timeout=200ms"), k -> k, 0, java.time.Duration.ofHours(1)),
                        1_500, TimeUnit.MILLISECONDS, 10,
                        new StatelessExponentialBackoff<>(Integer.MAX_VALUE, 20, 200, KeyAbsentFilter::isTransient))
                .executeAndCollect(input.size());
        assertThat(out).containsExactlyInAnyOrderElementsOf(input);
        assertThat(System.nanoTime() - start).as("held until the timeout, not dropped at once")
                .isGreaterThan(TimeUnit.MILLISECONDS.toNanos(1_500));
    }

    private static List<String> run(List<String> input, String uri, long timeoutMs, int nearCache) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        List<String> out = new ArrayList<>();
        try (CloseableIterator<String> it = AsyncDataStream.unorderedWaitWithRetry(
                        env.fromData(input),
                        new KeyAbsentFilter<String>(ValkeyClientProvider.forUri(uri), k -> k, nearCache, java.time.Duration.ofHours(1)),
                        timeoutMs, TimeUnit.MILLISECONDS, 10,
                        new StatelessExponentialBackoff<>(Integer.MAX_VALUE, 20, 200, KeyAbsentFilter::isTransient))
                .executeAndCollect()) {
            it.forEachRemaining(out::add);
        }
        return out;
    }

    /** Emits its elements, then stays open until cancelled. */
    @SuppressWarnings("deprecation")
    static final class EmitThenIdle implements org.apache.flink.streaming.api.functions.source.SourceFunction<String> {
        private final List<String> elements;
        private volatile boolean running = true;

        EmitThenIdle(List<String> elements) {
            this.elements = new ArrayList<>(elements);
        }

        @Override
        public void run(SourceContext<String> ctx) throws Exception {
            for (String e : elements) {
                if (e.startsWith("pause:")) {
                    Thread.sleep(Long.parseLong(e.substring("pause:".length())));
                } else {
                    ctx.collect(e);
                }
            }
            while (running) {
                Thread.sleep(50);
            }
        }

        @Override
        public void cancel() {
            running = false;
        }
    }

    /** A read-only peek for the assertions. */
    private static final class Valkey {
        static boolean exists(String key) {
            RedisClient client = RedisClient.create(TestServers.valkeyUri());
            try (StatefulRedisConnection<String, String> c = client.connect()) {
                return c.sync().exists(key) > 0;
            } finally {
                client.shutdown();
            }
        }
    }
}
