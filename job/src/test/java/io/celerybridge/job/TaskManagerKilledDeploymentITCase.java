package io.celerybridge.job;

import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;

import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The TaskManager PROCESS killed (SIGKILL) mid-stream on the real multi-process cluster, a new one
 * started: the job restarts from its last checkpoint on it. 100,000 events (1% published twice),
 * counted afterwards by event id in the Celery queue: 0 lost, 0 duplicated. Writes
 * target/reliability/tm-kill.md.
 */
class TaskManagerKilledDeploymentITCase {

    private static final int EVENTS = Integer.getInteger("faults.events", 100_000);
    private final FlinkRestClient flink = new FlinkRestClient();

    @Test
    void everyEventIsEnqueuedOnceAcrossATaskManagerCrash() throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = "persistent://public/default/tm-kill-" + run;
        String queue = "tm-kill-" + run;
        try (PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl(TestServers.pulsarAdminUrl()).build()) {
            admin.topics().createPartitionedTopic(topic, 2);
        }
        String jarId = flink.uploadShadedJar();
        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).enableBatching(true)
                        .batchingMaxPublishDelay(5, TimeUnit.MILLISECONDS).blockIfQueueFull(true).create();
                CeleryBackendReader valkey = new CeleryBackendReader(TestServers.valkeyUri())) {
            String job = flink.runJar(jarId, topic, run, 2, null, "channel=" + queue, "celery.max_queue_depth=0",
                    "restart.strategy=fixed-delay", "restart.attempts=50", "restart.delay=2s");
            flink.awaitRunning(job);
            Thread publisher = TestEvents.publishInBackground(producer, run, EVENTS, 100);
            try {
                long atCrash = QueuedTasks.awaitDepth(valkey, queue, EVENTS / 3, Duration.ofSeconds(180), "before the crash");
                assertThat(flink.taskManagers()).as("the cluster's one TaskManager, about to be killed").hasSize(1);
                assertThat(flink.runningSubtasksByTaskManager(job)).as("running subtasks of the job on it").isNotEmpty();
                cluster("kill-tm");
                cluster("start-tm");
                flink.awaitRestart(job, 180); // the crash reached the job
                publisher.join(180_000);
                Settled.consumed(topic, "cluster-it-" + run, Duration.ofSeconds(300));
                QueuedTasks.Tally tally = QueuedTasks.tally(QueuedTasks.await(valkey, queue, EVENTS, Duration.ofSeconds(300)), run, EVENTS);
                new ReliabilityReport("TaskManager process killed (TaskManagerKilledDeploymentITCase): multi-process cluster, "
                        + EVENTS + " events, 1% published twice")
                        .row("TaskManager SIGKILL mid-stream, new TaskManager (crash at " + atCrash + " tasks)", "-", EVENTS,
                                tally.tasks(), 0, tally.lost(), tally.duplicated())
                        .write("tm-kill.md");
                tally.assertExactlyOnce();
            } finally {
                flink.cancel(job);
                QueuedTasks.delete(valkey, queue);
            }
        }
    }

    private static void cluster(String command) throws Exception {
        Process p = new ProcessBuilder(List.of("bash", "../dev/flink-cluster.sh", command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            fail("dev/flink-cluster.sh " + command + " failed:\n" + out);
        }
    }
}
