package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryTask;
import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.job.internal.ToDeadLetter;
import io.celerybridge.udfs.BatchUdf;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.UdfResult;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * One decision per event across a crash: an event dead-lettered because its retries ran out
 * during an outage, then read again after a crash (no checkpoint covered it) once the outage is
 * over, goes to the DLQ again with its first reason and never becomes a task as well.
 */
class DecisionAcrossRestartITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final int GOOD = 20;

    /** A dependency that is down for events marked "flaky" until the test says it is back. */
    public static final class DownForFlakyEvents implements BatchUdf {
        static volatile boolean down = true;
        static volatile String queue = "celery";

        @Override
        public List<UdfResult> process(List<Event> events) {
            List<UdfResult> out = new ArrayList<>();
            for (Event e : events) {
                if (down && e.getPayloadJson().contains("\"flaky\"")) {
                    out.add(UdfResult.retry("dependency down"));
                } else {
                    out.add(UdfResult.tasks(CeleryTask.builder().id(io.celerybridge.connectors.celery.CeleryTaskIds.forKey(e.getId()))
                            .idempotencyKey(e.getId()).name("celery_bridge.process_event").queue(queue)
                            .kwargsJson("{\"event\": " + e.getPayloadJson() + "}").build()));
                }
            }
            return out;
        }
    }

    @Test
    void aDeadLetterStaysADeadLetterWhenItsEventIsReadAgainAfterACrash(@InjectMiniCluster MiniCluster cluster) throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = "persistent://public/default/decision-it-" + run;
        String queue = "decision-it-" + run;
        String flaky = run + "-flaky";
        DownForFlakyEvents.down = true;
        DownForFlakyEvents.queue = queue;
        BridgeConfig config = TestConfigs.forTestServers("topic=" + topic, "pulsar.subscription=decision-it", "channel=" + queue,
                "udf.class=" + DownForFlakyEvents.class.getName(), "max_retries=1", "backoff=10ms", "circuit.failure_threshold=2",
                "circuit.open_for=100ms", "checkpointing.interval=1h", "restart.strategy=fixed-delay", "restart.delay=1s");

        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).create();
                Consumer<byte[]> dlq = pulsar.newConsumer(Schema.BYTES).topic(config.dlqTopic()).subscriptionName("check")
                        .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
                CeleryBackendReader valkey = new CeleryBackendReader(TestServers.valkeyUri())) {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            CeleryBridgeJob.forProduction(config).build(env);
            JobClient job = env.executeAsync("decision-it");
            try {
                producer.send(("{\"id\": \"" + flaky + "\", \"flaky\": true}").getBytes(StandardCharsets.UTF_8));
                for (int i = 0; i < GOOD; i++) {
                    producer.send(("{\"id\": \"" + run + "-" + i + "\"}").getBytes(StandardCharsets.UTF_8));
                }
                Message<byte[]> first = dlq.receive(90, TimeUnit.SECONDS);
                assertThat(first).as("the flaky event, dead-lettered during the outage").isNotNull();
                assertThat(first.getProperty(ToDeadLetter.REASON)).isEqualTo("RETRIES_EXHAUSTED");
                QueuedTasks.awaitDepth(valkey, queue, GOOD, Duration.ofSeconds(60), "before the crash");

                // The outage ends, then a crash before any checkpoint: every event is read again.
                DownForFlakyEvents.down = false;
                cluster.terminateTaskManager(0).get(60, TimeUnit.SECONDS);
                cluster.startTaskManager();

                Message<byte[]> again = dlq.receive(120, TimeUnit.SECONDS);
                if (again == null) {
                    fail("the flaky event, read again after the crash, was not dead-lettered again within 120 s; tasks for it: "
                            + QueuedTasks.await(valkey, queue, GOOD, Duration.ofSeconds(1)).get(flaky));
                }
                assertThat(again.getProperty(ToDeadLetter.EVENT_ID)).isEqualTo(flaky);
                assertThat(again.getProperty(ToDeadLetter.REASON)).as("its first decision stands").isEqualTo("RETRIES_EXHAUSTED");
                assertThat(again.getProperty(ToDeadLetter.ERROR)).contains("before a restart");

                Map<String, Integer> tasks = QueuedTasks.await(valkey, queue, GOOD, Duration.ofSeconds(30));
                assertThat(tasks).as("no task for the dead-lettered event").doesNotContainKey(flaky);
                QueuedTasks.Tally tally = QueuedTasks.tally(tasks, run, GOOD);
                tally.assertExactlyOnce();
                new ReliabilityReport("One decision per event across a crash (DecisionAcrossRestartITCase): an outage exhausts one "
                        + "event's retries, the outage ends, the TaskManager is lost before any checkpoint")
                        .row("event dead-lettered, then read again after the crash with its dependency back", "RETRIES_EXHAUSTED",
                                GOOD + 1, tally.tasks(), 2, tally.lost(), tally.duplicated())
                        .write("decisions.md");
            } finally {
                job.cancel().get();
                QueuedTasks.delete(valkey, queue);
            }
        }
    }
}
