package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryTask;
import io.celerybridge.connectors.celery.CeleryTaskIds;
import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.udfs.BatchUdf;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.UdfContext;
import io.celerybridge.udfs.UdfResult;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A UDF outage six times longer than the checkpoint timeout, with the stage's buffer full. The
 * stage used to wait on the task thread, so no checkpoint barrier was taken until the dependency
 * was back: every checkpoint expired, and with Flink's default (no failed checkpoint tolerated)
 * each expiry failed the job into a restart loop. Now the stage pauses the source and returns, so
 * checkpoints keep completing during the outage (and failed ones are tolerated besides).
 * With {@code parallelism.udf} set apart from the source's (the stage in a task of its own) this
 * test fails: 0 completed.
 */
class UdfOutageCheckpointITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final int N = 2_000;

    /** Down while {@link #down}; counts its opens: one per start of the job, so a restart shows. */
    public static final class DownWhileFlagged implements BatchUdf {
        static volatile boolean down;
        static volatile String queue = "celery";
        static final AtomicInteger OPENS = new AtomicInteger();

        @Override
        public void open(UdfContext context) {
            OPENS.incrementAndGet();
        }

        @Override
        public List<UdfResult> process(List<Event> events) throws Exception {
            if (down) {
                throw new java.io.IOException("dependency down");
            }
            List<UdfResult> out = new ArrayList<>();
            for (Event e : events) {
                out.add(UdfResult.tasks(CeleryTask.builder().id(CeleryTaskIds.forKey(e.getId())).idempotencyKey(e.getId())
                        .name("celery_bridge.process_event").queue(queue).kwargsJson("{\"event\": " + e.getPayloadJson() + "}").build()));
            }
            return out;
        }
    }

    @Test
    void checkpointsCompleteDuringAnOutageLongerThanTheCheckpointTimeout() throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = "persistent://public/default/udf-outage-" + run;
        String queue = "udf-outage-" + run;
        DownWhileFlagged.queue = queue;
        DownWhileFlagged.down = true;
        DownWhileFlagged.OPENS.set(0);
        BridgeConfig config = TestConfigs.forTestServers("topic=" + topic, "pulsar.subscription=udf-outage", "channel=" + queue,
                "udf.class=" + DownWhileFlagged.class.getName(), "batch_size=10", "max_retries=5", "circuit.failure_threshold=3",
                "circuit.open_for=500ms", "checkpointing.interval=500ms", "checkpointing.timeout=2s",
                "restart.strategy=fixed-delay", "restart.attempts=100", "restart.delay=500ms");
        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).create();
                CeleryBackendReader valkey = new CeleryBackendReader(TestServers.valkeyUri())) {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            // As users run it: parallelism 2 over a non-partitioned topic, so the source runs at 1
            // and the stage follows it into its task (the sink runs at 2).
            env.setParallelism(2);
            CeleryBridgeJob.forProduction(config).build(env);
            JobClient job = env.executeAsync("udf-outage-it");
            try {
                TestEvents.publish(producer, run, N, 0);
                FlinkRestClient rest = FlinkRestClient.of(MINI_CLUSTER.getClientConfiguration());
                String jobId = job.getJobID().toHexString();
                Thread.sleep(2_000); // the buffer fills and the circuit opens
                long completedBefore = rest.checkpointCounts(jobId).path("completed").asLong();
                Thread.sleep(12_000); // six checkpoint timeouts of outage
                JsonNode during = rest.checkpointCounts(jobId);
                int opensDuringOutage = DownWhileFlagged.OPENS.get();
                System.out.printf("checkpoints before the outage's 12 s: %d completed; after: %s%n", completedBefore, during);
                assertThat(during.path("completed").asLong() - completedBefore)
                        .as("checkpoints completed during 12 s of outage (interval 500 ms, timeout 2 s); counts: " + during)
                        .isGreaterThanOrEqualTo(5);
                DownWhileFlagged.down = false;
                Settled.consumed(topic, "udf-outage", Duration.ofSeconds(90));
                QueuedTasks.Tally tally = QueuedTasks.tally(QueuedTasks.await(valkey, queue, N, Duration.ofSeconds(90)), run, N);
                tally.assertExactlyOnce();
                assertThat(opensDuringOutage).as("UDF opens during the outage: 1, or the job restarted").isEqualTo(1);
                assertThat(DownWhileFlagged.OPENS.get()).as("UDF opens in all").isEqualTo(1);
            } finally {
                job.cancel().get();
                QueuedTasks.delete(valkey, queue);
            }
        }
    }
}
