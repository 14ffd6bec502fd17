package io.celerybridge.job;

import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.job.internal.CeleryMessageEncoder;
import io.celerybridge.job.internal.ToDeadLetter;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Events the decoder accepts never stop the pipeline, however large their tasks grow: a task
 * larger than the sink takes is dead-lettered (TASK_TOO_LARGE) before it reaches the sink, and a
 * per-batch task of large events is split. Restarts are off, so any failure would end the job.
 */
class LargeEventsITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int GOOD = 50;
    private static final ReliabilityReport REPORT = new ReliabilityReport(
            "Large events (LargeEventsITCase): default config, restarts off, so a failure would end the job");

    @org.junit.jupiter.api.AfterAll
    static void writeReport() throws java.io.IOException {
        REPORT.write("large-events.md");
    }

    @Test
    void tasksTooLargeForTheSinkAreDeadLetteredAndTheJobKeepsRunning() throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = "persistent://public/default/large-it-" + run;
        String queue = "large-it-" + run;
        // A payload of exactly events.max_payload_bytes, mostly 'é': its envelope is ~4.2 MB (each é
        // is written as \u00e9, then base64), over the sink's 4 MiB.
        String head = "{\"id\": \"" + run + "-max\", \"t\": \"";
        int room = (1 << 20) - head.length() - 2;
        String max = head + "é".repeat(room / 2) + "x".repeat(room % 2) + "\"}";
        assertThat(max.getBytes(StandardCharsets.UTF_8)).hasSize(1 << 20);
        // 600 KB on a route that passes the payload twice: one copy would fit, two do not.
        String twice = "{\"id\": \"" + run + "-twice\", \"type\": \"twice\", \"t\": \"" + "é".repeat(300_000) + "\"}";

        BridgeConfig config = TestConfigs.forTestServers("topic=" + topic, "pulsar.subscription=large-it", "channel=" + queue,
                "restart.strategy=none", "udf.routing={\"routes\": {\"twice\": {\"task\": \"celery_bridge.process_event\","
                        + " \"args\": [\"\"], \"kwargs\": {\"again\": \"\"}}, \"*\": {\"task\": \"celery_bridge.process_event\"}}}");
        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).enableBatching(false).create();
                Consumer<byte[]> dlq = pulsar.newConsumer(Schema.BYTES).topic(config.dlqTopic()).subscriptionName("check")
                        .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
                CeleryBackendReader valkey = new CeleryBackendReader(TestServers.valkeyUri())) {
            JobClient job = start(config, "large-it");
            try {
                producer.send(max.getBytes(StandardCharsets.UTF_8));
                producer.send(twice.getBytes(StandardCharsets.UTF_8));
                for (int i = 0; i < GOOD; i++) {
                    producer.send(("{\"id\": \"" + run + "-" + i + "\"}").getBytes(StandardCharsets.UTF_8));
                }
                Map<String, String> reasons = new HashMap<>();
                for (int i = 0; i < 2; i++) {
                    Message<byte[]> m = dlq.receive(90, TimeUnit.SECONDS);
                    assertThat(m).as("dead letter %d of 2", i + 1).isNotNull();
                    reasons.put(m.getProperty(ToDeadLetter.EVENT_ID), m.getProperty(ToDeadLetter.REASON));
                    assertThat(m.getProperty(ToDeadLetter.ERROR)).contains("celery.max_task_bytes");
                }
                assertThat(reasons).containsEntry(run + "-max", CeleryMessageEncoder.TASK_TOO_LARGE)
                        .containsEntry(run + "-twice", CeleryMessageEncoder.TASK_TOO_LARGE);
                QueuedTasks.awaitDepth(valkey, queue, GOOD, Duration.ofSeconds(60), "after the large events");
                assertThat(job.getJobStatus().get()).as("no failure: restarts are off").isEqualTo(JobStatus.RUNNING);
                Settled.consumed(topic, "large-it", Duration.ofSeconds(60));
                QueuedTasks.Tally good = QueuedTasks.tally(QueuedTasks.await(valkey, queue, GOOD, Duration.ofSeconds(5)), run, GOOD);
                good.assertExactlyOnce();
                REPORT.row("a payload of exactly events.max_payload_bytes, mostly é (envelope 4.2 MB)", "TASK_TOO_LARGE", 1, 0, 1, 0, 0)
                        .row("600 KB on a route that passes the payload twice", "TASK_TOO_LARGE", 1, 0, 1, 0, 0)
                        .row("small events after them (the job kept running, 0 restarts)", "-", GOOD, good.tasks(), 0, good.lost(), good.duplicated());
            } finally {
                job.cancel().get();
                QueuedTasks.delete(valkey, queue);
            }
        }
    }

    @Test
    void aPerBatchTaskOfLargeEventsIsSplitNotRefused() throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = "persistent://public/default/large-batch-it-" + run;
        String queue = "large-batch-it-" + run;
        int events = 100;
        BridgeConfig config = TestConfigs.forTestServers("topic=" + topic, "pulsar.subscription=large-batch-it",
                "channel=" + queue, "restart.strategy=none", "udf.batch_task=celery_bridge.process_batch", "batch_size=100",
                "udf.max_linger=2s");
        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).create();
                CeleryBackendReader valkey = new CeleryBackendReader(TestServers.valkeyUri())) {
            JobClient job = start(config, "large-batch-it");
            try {
                String filler = "é".repeat(10_000); // 20 KB per event: 2 MB per batch of 100
                for (int i = 0; i < events; i++) {
                    producer.sendAsync(("{\"id\": \"" + run + "-" + i + "\", \"t\": \"" + filler + "\"}").getBytes(StandardCharsets.UTF_8));
                }
                producer.flush();
                Map<String, Integer> members = new HashMap<>();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (members.values().stream().mapToInt(Integer::intValue).sum() < events && System.nanoTime() < deadline) {
                    Thread.sleep(500);
                    members.clear();
                    for (String raw : valkey.redis().lrange(queue, 0, -1)) {
                        JsonNode body = JSON.readTree(Base64.getDecoder().decode(JSON.readTree(raw).get("body").asText()));
                        for (JsonNode e : body.get(1).get("events")) {
                            members.merge(e.get("id").asText(), 1, Integer::sum);
                        }
                    }
                }
                assertThat(members).as("every event in exactly one batch task").hasSize(events);
                assertThat(members.values()).containsOnly(1);
                long tasks = valkey.redis().llen(queue);
                assertThat(tasks).as("the batch was split into several tasks").isGreaterThan(1);
                assertThat(job.getJobStatus().get()).as("no failure: restarts are off").isEqualTo(JobStatus.RUNNING);
                REPORT.row("per-batch mode, 100 events of 20 KB of é (" + tasks + " batch tasks)", "-", events,
                        members.size(), 0, events - members.size(), members.values().stream().mapToLong(c -> c - 1).sum());
            } finally {
                job.cancel().get();
                QueuedTasks.delete(valkey, queue);
            }
        }
    }

    private static JobClient start(BridgeConfig config, String name) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        CeleryBridgeJob.forProduction(config).build(env);
        return env.executeAsync(name);
    }
}
