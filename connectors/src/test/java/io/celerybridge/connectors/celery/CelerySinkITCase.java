package io.celerybridge.connectors.celery;

import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.connectors.valkey.ValkeyClientProvider;

import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.restartstrategy.RestartStrategies;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The sink against a real Valkey: atomic idempotent enqueue, priority buckets, backpressure, restore. */
class CelerySinkITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] BUCKETS = {"", "\u0006\u00163", "\u0006\u00166", "\u0006\u00169"};

    private static RedisClient client;
    private static RedisCommands<String, String> redis;

    @BeforeAll
    static void connect() {
        client = RedisClient.create(TestServers.valkeyUri());
        StatefulRedisConnection<String, String> c = client.connect();
        redis = c.sync();
    }

    @AfterAll
    static void disconnect() {
        if (client != null) {
            client.shutdown();
        }
    }

    @Test
    void enqueuesEveryMessageOnItsPriorityBucket() throws Exception {
        String queue = "it-sink-" + UUID.randomUUID();
        List<CeleryMessage> messages = messages(queue, 0, 2_000, true);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.fromData(messages).sinkTo(sink().build());
        env.execute("celery-sink-buckets");

        Set<String> seen = new HashSet<>();
        for (int b = 0; b < BUCKETS.length; b++) {
            for (String raw : redis.lrange(queue + BUCKETS[b], 0, -1)) {
                JsonNode envelope = JSON.readTree(raw);
                int priority = envelope.get("properties").get("priority").asInt();
                assertThat(CeleryEnvelopeCodec.priorityBucket(priority)).isEqualTo(new int[] {0, 3, 6, 9}[b]);
                JsonNode body = JSON.readTree(Base64.getDecoder().decode(envelope.get("body").asText()));
                assertThat(body.get(0).get(1).asInt()).isEqualTo(1);
                assertThat(seen.add(envelope.get("headers").get("id").asText())).as("no task twice").isTrue();
            }
        }
        assertThat(seen).hasSize(2_000);
        cleanUp(queue);
    }

    @Test
    void anAclUserThatMayNotLoadTheScriptFailsTheJobNamingThePermission() throws Exception {
        String queue = "it-sink-" + UUID.randomUUID();
        String user = "evalsha-only-" + UUID.randomUUID().toString().substring(0, 8);
        redis.aclSetuser(user, io.lettuce.core.AclSetuserArgs.Builder.on().addPassword("pw-1").allKeys().allChannels()
                .allCommands().removeCommand(io.lettuce.core.protocol.CommandType.SCRIPT, io.lettuce.core.protocol.CommandKeyword.LOAD));
        redis.scriptFlush(); // as after a restart: EVALSHA answers NOSCRIPT until the script is loaded again
        try {
            String uri = TestServers.valkeyUri().replace("://", "://" + user + ":pw-1@");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.setParallelism(1);
            env.fromData(messages(queue, 0, 10, false)).sinkTo(sink().setClientProvider(ValkeyClientProvider.forUri(uri)).build());
            java.util.concurrent.CompletableFuture<Void> run = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    env.execute("celery-sink-noperm");
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> run.get(60, java.util.concurrent.TimeUnit.SECONDS))
                    .as("fails, not NOSCRIPT retried forever").isInstanceOf(java.util.concurrent.ExecutionException.class)
                    .satisfies(e -> assertThat(org.apache.flink.util.ExceptionUtils.stringifyException(e))
                            .contains("SCRIPT LOAD was refused").contains("script|load"));
            assertThat(depth(queue)).isZero();

            // With the script loaded by an administrator, the same user enqueues (the refusal is only logged).
            redis.scriptLoad(io.celerybridge.connectors.celery.internal.IdempotentEnqueueScript.SOURCE);
            StreamExecutionEnvironment preloaded = StreamExecutionEnvironment.getExecutionEnvironment();
            preloaded.setParallelism(1);
            preloaded.fromData(messages(queue, 0, 10, false)).sinkTo(sink().setClientProvider(ValkeyClientProvider.forUri(uri)).build());
            preloaded.execute("celery-sink-preloaded");
            assertThat(depth(queue)).isEqualTo(10);
        } finally {
            redis.aclDeluser(user);
            cleanUp(queue);
        }
    }

    @Test
    void sameMessagesWrittenTwiceAndRepeatedInOneBatchEnqueueOnce() throws Exception {
        String queue = "it-sink-" + UUID.randomUUID();
        List<CeleryMessage> firstRun = messages(queue, 0, 600, false);
        firstRun.addAll(messages(queue, 0, 100, false)); // repeats inside the same run
        List<CeleryMessage> secondRun = messages(queue, 300, 900, false); // half already enqueued

        for (List<CeleryMessage> run : List.of(firstRun, secondRun)) {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.setParallelism(2);
            env.fromData(run).sinkTo(sink().build());
            env.execute("celery-sink-twice");
        }

        assertThat(depth(queue)).isEqualTo(900);
        assertThat(ids(queue)).hasSize(900);
        assertThat(redis.ttl(CeleryEnvelopeCodec.builder().build().dedupKey(queue + "-7")))
                .as("dedup keys carry the TTL").isBetween(3000L, 3600L);
        cleanUp(queue);
    }

    @Test
    void holdsAtMaxQueueDepthUntilWorkersDrainTheQueue() throws Exception {
        String queue = "it-sink-" + UUID.randomUUID();
        int n = 1_000;
        int maxDepth = 200;
        int perScript = 10;
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.fromData(messages(queue, 0, n, true))
                .sinkTo(sink().setMaxQueueDepth(maxDepth).setMessagesPerScript(perScript)
                        .setQueueFullPollInterval(Duration.ofMillis(50)).build());
        JobClient job = env.executeAsync("celery-sink-backpressure");

        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (depth(queue) < maxDepth && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(depth(queue)).as("the sink fills the queue up to its max depth").isGreaterThanOrEqualTo(maxDepth);
        Thread.sleep(1_500);
        assertThat(depth(queue)).as("and waits there (one script call may cross it by its size)")
                .isLessThan(maxDepth + perScript);
        assertThat(job.getJobStatus().get().isGloballyTerminalState()).as("the job is held, not finished").isFalse();

        // Play the worker: take tasks off until the job has enqueued everything.
        Set<String> consumed = new HashSet<>();
        deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (consumed.size() < n && System.nanoTime() < deadline) {
            boolean took = false;
            for (String b : BUCKETS) {
                String raw = redis.rpop(queue + b);
                if (raw != null) {
                    assertThat(consumed.add(JSON.readTree(raw).get("headers").get("id").asText())).isTrue();
                    took = true;
                }
            }
            if (!took) {
                Thread.sleep(5);
            }
        }
        job.getJobExecutionResult().get();
        assertThat(consumed).as("every task arrived once; nothing dropped while waiting").hasSize(n);
        cleanUp(queue);
    }

    @Test
    void restoreFromCheckpointEnqueuesEachMessageOnce() throws Exception {
        String queue = "it-sink-" + UUID.randomUUID();
        int n = 5_000;
        List<CeleryMessage> messages = messages(queue, 0, n, false);
        FailOnceAfterCheckpoints.reset();

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.enableCheckpointing(100);
        env.setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 100));
        env.fromSequence(0, n - 1)
                .map(new FailOnceAfterCheckpoints(n / 2))
                .map(i -> messages.get((int) (long) i))
                .sinkTo(sink().build());
        env.execute("celery-sink-restore");

        assertThat(FailOnceAfterCheckpoints.PROCESSED.get())
                .as("the failure made the job replay records since its checkpoint").isGreaterThan(n);
        assertThat(depth(queue)).isEqualTo(n);
        assertThat(ids(queue)).hasSize(n);
        cleanUp(queue);
    }

    /** Slows the stream so checkpoints complete, then fails once in the first attempt. */
    static final class FailOnceAfterCheckpoints extends RichMapFunction<Long, Long> {
        static final AtomicLong PROCESSED = new AtomicLong();
        private final long failAt;

        FailOnceAfterCheckpoints(long failAt) {
            this.failAt = failAt;
        }

        static void reset() {
            PROCESSED.set(0);
        }

        @Override
        public Long map(Long value) throws Exception {
            PROCESSED.incrementAndGet();
            if (value % 100 == 0) {
                Thread.sleep(20);
            }
            if (value == failAt && getRuntimeContext().getTaskInfo().getAttemptNumber() == 0) {
                throw new IllegalStateException("injected failure at " + value);
            }
            return value;
        }
    }

    private static CelerySink.Builder sink() {
        return CelerySink.builder()
                .setClientProvider(ValkeyClientProvider.forUri(TestServers.valkeyUri()))
                .setDedupTtl(Duration.ofHours(1))
                .setMessagesPerScript(50)
                .setMaxBatchSize(200)
                .setMaxBufferedRequests(2_000);
    }

    /** Tasks add(i, 1) for i in [from, to), idempotency key and id derived from queue and i. */
    static List<CeleryMessage> messages(String queue, int from, int to, boolean spreadPriorities) throws Exception {
        CeleryEnvelopeCodec codec = CeleryEnvelopeCodec.builder().build();
        List<CeleryMessage> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            String eventId = queue + "-" + i;
            out.add(codec.toMessage(CeleryTask.builder().id(CeleryTaskIds.forKey(eventId)).idempotencyKey(eventId)
                    .name("celery_bridge.add").argsJson("[" + i + ", 1]").queue(queue)
                    .priority(spreadPriorities ? i % 10 : 0).build()));
        }
        return out;
    }

    private static long depth(String queue) {
        long d = 0;
        for (String b : BUCKETS) {
            d += redis.llen(queue + b);
        }
        return d;
    }

    private static Set<String> ids(String queue) throws Exception {
        Set<String> ids = new HashSet<>();
        for (String b : BUCKETS) {
            for (String raw : redis.lrange(queue + b, 0, -1)) {
                ids.add(JSON.readTree(raw).get("headers").get("id").asText());
            }
        }
        return ids;
    }

    private static void cleanUp(String queue) {
        for (String b : BUCKETS) {
            redis.del(queue + b);
        }
    }
}
