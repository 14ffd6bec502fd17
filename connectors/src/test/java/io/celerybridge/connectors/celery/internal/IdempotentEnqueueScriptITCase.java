package io.celerybridge.connectors.celery.internal;

import io.celerybridge.connectors.celery.CeleryMessage;
import io.celerybridge.connectors.testutils.TestServers;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The enqueue script on a real Valkey: marks and pushes together, or neither. */
class IdempotentEnqueueScriptITCase {

    private static RedisClient client;
    private static StatefulRedisConnection<String, byte[]> connection;
    private static RedisCommands<String, byte[]> redis;

    @BeforeAll
    static void connect() {
        client = RedisClient.create(TestServers.valkeyUri());
        connection = client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
        redis = connection.sync();
        redis.scriptLoad(IdempotentEnqueueScript.SOURCE);
    }

    @AfterAll
    static void disconnect() {
        if (client != null) {
            client.shutdown();
        }
    }

    @Test
    void marksAndPushesInEventOrderAndSkipsRepeats() {
        String run = UUID.randomUUID().toString();
        List<CeleryMessage> batch = List.of(message(run, "q", "a"), message(run, "q", "b"), message(run, "q", "a"));
        assertThat(eval(batch, 0)).isEqualTo("110");
        assertThat(eval(List.of(message(run, "q", "b"), message(run, "q", "c")), 0)).isEqualTo("01");
        // kombu pops from the right: first pushed, first run.
        assertThat(redis.rpop(run + ":q")).asString(StandardCharsets.US_ASCII).isEqualTo("envelope-a");
        assertThat(redis.rpop(run + ":q")).asString(StandardCharsets.US_ASCII).isEqualTo("envelope-b");
        assertThat(redis.rpop(run + ":q")).asString(StandardCharsets.US_ASCII).isEqualTo("envelope-c");
        assertThat(redis.ttl(run + ":dedup:a")).isBetween(1L, 60L);
    }

    @Test
    void onlyAnEnqueueMarkMakesADuplicateAnotherDecisionGivesWay() {
        String run = UUID.randomUUID().toString();
        redis.set(run + ":dedup:a", "dlq:RETRIES_EXHAUSTED".getBytes(StandardCharsets.US_ASCII));
        assertThat(eval(List.of(message(run, "q", "a")), 0)).as("a task that reached the sink is never dropped").isEqualTo("1");
        assertThat(redis.get(run + ":dedup:a")).asString(StandardCharsets.US_ASCII).isEqualTo("1");
        assertThat(redis.ttl(run + ":dedup:a")).isBetween(1L, 60L);
        assertThat(eval(List.of(message(run, "q", "a")), 0)).as("now a duplicate").isEqualTo("0");
        assertThat(redis.llen(run + ":q")).isOne();
    }

    @Test
    void fullQueueWritesNothing() {
        String run = UUID.randomUUID().toString();
        redis.lpush(run + ":q\u0006\u00163", "x".getBytes(StandardCharsets.US_ASCII), "y".getBytes(StandardCharsets.US_ASCII));
        assertThat(eval(List.of(message(run, "q", "a")), 2)).isEqualTo("F0");
        assertThat(redis.exists(run + ":dedup:a")).isZero();
        assertThat(eval(List.of(message(run, "q", "a")), 3)).isEqualTo("1");
    }

    @Test
    void aFailedPushLeavesNoMarkBehind() {
        String run = UUID.randomUUID().toString();
        redis.set(run + ":bad", "not a list".getBytes(StandardCharsets.US_ASCII));
        List<CeleryMessage> batch = List.of(message(run, "good", "a"), message(run, "bad", "b"), message(run, "good2", "c"));
        assertThatThrownBy(() -> eval(batch, 0))
                .isInstanceOf(RedisCommandExecutionException.class).hasMessageContaining("WRONGTYPE");
        assertThat(redis.exists(run + ":dedup:b", run + ":dedup:c")).as("marks of unpushed events are undone").isZero();
        assertThat(redis.exists(run + ":dedup:a")).as("the pushed event keeps its mark").isOne();
        assertThat(redis.llen(run + ":good")).isOne();
        assertThat(redis.llen(run + ":good2")).isZero();
    }

    @Test
    void aBatchTaskMarksAllItsMembersOrReportsThoseAlreadyEnqueued() throws Exception {
        String run = UUID.randomUUID().toString();
        io.celerybridge.connectors.celery.CeleryEnvelopeCodec codec = io.celerybridge.connectors.celery.CeleryEnvelopeCodec.builder().build();
        String queue = "batch-it-" + run;
        CeleryMessage abc = codec.toMessage(batch(queue, run, "a", "b", "c"));
        assertThat(abc.memberDedupKeys()).hasSize(3);
        assertThat(eval(List.of(abc), 0)).isEqualTo("1");
        assertThat(redis.exists(codec.dedupKey(run + "a"), codec.dedupKey(run + "b"), codec.dedupKey(run + "c"))).isEqualTo(3);

        CeleryMessage cd = codec.toMessage(batch(queue, run, "c", "d"));
        CeleryMessage plainD = codec.toMessage(io.celerybridge.connectors.celery.CeleryTask.builder().id("t-" + run + "d")
                .idempotencyKey(run + "d").name("celery_bridge.process_event").queue(queue).build());
        assertThat(eval(List.of(cd, abc, plainD, codec.toMessage(batch(queue, run, "d", "e"))), 0))
                .as("c is taken: nothing written for [c, d]; the same [a, b, c] again is a duplicate; d goes alone; [d, e] then conflicts")
                .isEqualTo("C01C|10,10");
        assertThat(redis.exists(codec.dedupKey(run + "e"))).as("a batch in conflict marks nothing").isZero();
        assertThat(redis.llen(queue)).isEqualTo(2);
        assertThat(eval(List.of(cd.withoutMembers(codec, java.util.Set.of(codec.dedupKey(run + "c")))), 0))
                .as("[d] alone: d is done").isEqualTo("C|1");
        assertThat(cd.withoutMembers(codec, java.util.Set.of(codec.dedupKey(run + "c"), codec.dedupKey(run + "d")))).isNull();
        redis.del(queue);
    }

    private static io.celerybridge.connectors.celery.CeleryTask batch(String queue, String run, String... members) {
        List<String> keys = new java.util.ArrayList<>();
        List<String> jsons = new java.util.ArrayList<>();
        for (String m : members) {
            keys.add(run + m);
            jsons.add("{\"id\": \"" + run + m + "\"}");
        }
        return io.celerybridge.connectors.celery.CeleryTask.builder().name("celery_bridge.process_batch").queue(queue)
                .batchOf("events", keys, jsons).build();
    }

    private static String eval(List<CeleryMessage> batch, long maxDepth) {
        IdempotentEnqueueScript.Call call = IdempotentEnqueueScript.call(batch, 60, maxDepth);
        byte[] reply = redis.evalsha(IdempotentEnqueueScript.SHA1, ScriptOutputType.VALUE, call.keys, call.args);
        return new String(reply, StandardCharsets.US_ASCII);
    }

    private static CeleryMessage message(String run, String queue, String event) {
        return new CeleryMessage("t-" + event, run + ":dedup:" + event, run + ":" + queue, run + ":" + queue, "envelope-" + event);
    }
}
