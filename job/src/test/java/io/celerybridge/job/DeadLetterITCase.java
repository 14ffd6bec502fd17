package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryTaskIds;
import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.job.internal.ToDeadLetter;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad input goes to the DLQ topic with its reason, the job keeps running; DLQ replay round trip. */
class DeadLetterITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @Test
    void badInputIsDeadLetteredWithReasonProcessedEventsFanOutAndReplayRunsOnce() throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = "persistent://public/default/dlq-it-" + run;
        String dlqTopic = topic + "-dlq";
        BridgeConfig settings = TestConfigs.forTestServers(
                "topic=" + topic, "dlq_topic=" + dlqTopic, "pulsar.subscription=dlq-it", "udf.fanout_topic=" + topic + "-processed",
                "events.max_nesting_depth=200", // deep enough that the codec's own limit (100) is what refuses the task
                "udf.schema={\"fields\": {\"amount\": {\"type\": \"number\", \"max\": 100}}}",
                "udf.routing={\"routes\": {\"good\": {\"task\": \"celery_bridge.process_event\"},"
                        + " \"deep\": {\"task\": \"celery_bridge.process_event\"}}}");

        Map<String, byte[]> bad = new LinkedHashMap<>();
        bad.put("MALFORMED_JSON", "{\"id\": \"x\", nope}".getBytes(StandardCharsets.UTF_8));
        bad.put("TRUNCATED_JSON", "{\"id\": \"x\",".getBytes(StandardCharsets.UTF_8));
        bad.put("INVALID_UTF8", new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'});
        bad.put("EMPTY_PAYLOAD", new byte[0]);
        bad.put("NOT_AN_OBJECT", "[1, 2, 3]".getBytes(StandardCharsets.UTF_8));
        bad.put("INVALID_EVENT_ID", "{\"id\": {\"nested\": true}}".getBytes(StandardCharsets.UTF_8));
        bad.put("SCHEMA_VIOLATION", ("{\"id\": \"" + run + "-big\", \"type\": \"good\", \"amount\": 500}").getBytes(StandardCharsets.UTF_8));
        bad.put("NO_ROUTE", ("{\"id\": \"" + run + "-lost\", \"type\": \"user.deleted\"}").getBytes(StandardCharsets.UTF_8));
        bad.put("UNENCODABLE_TASK", ("{\"id\": \"" + run + "-deep\", \"type\": \"deep\", \"v\": " + "[".repeat(150) + "]".repeat(150) + "}")
                .getBytes(StandardCharsets.UTF_8));

        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).create();
                Consumer<byte[]> dlq = pulsar.newConsumer(Schema.BYTES).topic(dlqTopic).subscriptionName("check")
                        .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
                Consumer<byte[]> processed = pulsar.newConsumer(Schema.BYTES).topic(topic + "-processed").subscriptionName("check")
                        .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
                CeleryBackendReader backend = new CeleryBackendReader(TestServers.valkeyUri())) {

            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            CeleryBridgeJob.forProduction(settings).build(env);
            JobClient job = env.executeAsync("dlq-it");
            try {
                Instant before = Instant.now();
                String good = run + "-good";
                producer.newMessage().value(("{\"id\": \"" + good + "\", \"type\": \"good\"}").getBytes(StandardCharsets.UTF_8)).send();
                for (Map.Entry<String, byte[]> e : bad.entrySet()) {
                    producer.newMessage().key("k-" + e.getKey()).property("origin", "test").value(e.getValue()).send();
                }

                Map<String, Message<byte[]>> byReason = new HashMap<>();
                for (int i = 0; i < bad.size(); i++) {
                    Message<byte[]> m = dlq.receive(60, TimeUnit.SECONDS);
                    assertThat(m).as("DLQ record %d of %d", i + 1, bad.size()).isNotNull();
                    byReason.put(m.getProperty(ToDeadLetter.REASON), m);
                    dlq.acknowledge(m);
                }
                assertThat(byReason.keySet()).isEqualTo(bad.keySet());
                for (Map.Entry<String, byte[]> e : bad.entrySet()) {
                    Message<byte[]> m = byReason.get(e.getKey());
                    assertThat(m.getData()).as("original bytes of %s", e.getKey()).isEqualTo(e.getValue());
                    assertThat(m.getKey()).isEqualTo("k-" + e.getKey());
                    assertThat(m.getProperty("origin")).as("original properties kept").isEqualTo("test");
                    assertThat(m.getProperty(ToDeadLetter.SOURCE_TOPIC)).isEqualTo(topic);
                    assertThat(m.getProperty(ToDeadLetter.SOURCE_MESSAGE_ID)).isNotBlank();
                    assertThat(m.getProperty(ToDeadLetter.ERROR)).isNotBlank().hasSizeLessThanOrEqualTo(1000);
                    assertThat(m.getProperty(ToDeadLetter.ATTEMPTS)).isEqualTo("1");
                    assertThat(Instant.parse(m.getProperty(ToDeadLetter.LAST_FAILURE))).isAfterOrEqualTo(before.minusSeconds(1));
                    assertThat(m.getProperty(ToDeadLetter.STAGE)).as("stage of %s", e.getKey())
                            .isEqualTo(io.celerybridge.udfs.DeadLetterReason.valueOf(e.getKey()).stage().toString());
                }
                assertThat(byReason.get("UNENCODABLE_TASK").getProperty(ToDeadLetter.EVENT_ID)).isEqualTo(run + "-deep");
                assertThat(byReason.get("SCHEMA_VIOLATION").getProperty(ToDeadLetter.ERROR)).isEqualTo("field 'amount': expected at most 100, got 500");
                assertThat(byReason.get("NO_ROUTE").getProperty(ToDeadLetter.ERROR)).contains("\"user.deleted\" at /type has no route");
                assertThat(backend.awaitResults(List.of(CeleryTaskIds.forKey(good)), Duration.ofSeconds(60)))
                        .as("the good event still ran: bad input did not stop the job").hasSize(1);
                Message<byte[]> fannedOut = processed.receive(60, TimeUnit.SECONDS);
                assertThat(fannedOut).as("the processed event, fanned out").isNotNull();
                assertThat(fannedOut.getKey()).isEqualTo(good);
                assertThat(new String(fannedOut.getData(), StandardCharsets.UTF_8)).isEqualTo("{\"id\": \"" + good + "\", \"type\": \"good\"}");
                assertThat(processed.receive(2, TimeUnit.SECONDS)).as("only processed events fan out").isNull();

                // Replay round trip: a record dead-lettered for a reason since mended comes back once,
                // even when the DLQ holds it twice (a restart can repeat a DLQ write).
                String revived = run + "-revived";
                try (Producer<byte[]> toDlq = pulsar.newProducer(Schema.BYTES).topic(dlqTopic).create()) {
                    for (int copy = 0; copy < 2; copy++) {
                        toDlq.newMessage().value(("{\"id\": \"" + revived + "\", \"type\": \"good\"}").getBytes(StandardCharsets.UTF_8))
                                .property(ToDeadLetter.REASON, "RETRIES_EXHAUSTED").property(ToDeadLetter.EVENT_ID, revived)
                                .property(ToDeadLetter.LAST_FAILURE, Instant.now().toString()).send();
                    }
                }
                DlqReplay.Result dry = DlqReplay.replay(settings,
                        Instant.MIN, Instant.MAX, Set.of("RETRIES_EXHAUSTED"), true);
                DlqReplay.Result first = DlqReplay.replay(settings,
                        Instant.MIN, Instant.MAX, Set.of("RETRIES_EXHAUSTED"), false);
                DlqReplay.Result second = DlqReplay.replay(settings,
                        before, Instant.MAX, Set.of("RETRIES_EXHAUSTED"), false);
                assertThat(dry.replayed).as("a dry run counts").isEqualTo(1);
                assertThat(dry.repeats).as("the second copy of one event").isEqualTo(1);
                assertThat(first.replayed).as("the dry run acknowledged nothing").isEqualTo(1);
                assertThat(first.repeats).as("one event, re-published once").isEqualTo(1);
                assertThat(first.skipped).as("not selected: left in the subscription").isEqualTo(bad.size());
                assertThat(first.failed.get()).isZero();
                assertThat(second.replayed).as("what was replayed was acknowledged").isZero();
                assertThat(second.skipped).as("what was not selected is still there").isEqualTo(bad.size());
                String taskId = CeleryTaskIds.forKey(revived);
                assertThat(backend.awaitResults(List.of(taskId), Duration.ofSeconds(60))).hasSize(1);
                // The replayed event was read and checkpointed, and the queue is empty.
                Settled.consumed(topic, "dlq-it", Duration.ofSeconds(60));
                Settled.fetchedByWorker(backend, "celery", Duration.ofSeconds(60));
                assertThat(backend.executions(taskId)).as("replayed twice, run once").isEqualTo(1);
            } finally {
                job.cancel().get();
            }
        }
    }
}
