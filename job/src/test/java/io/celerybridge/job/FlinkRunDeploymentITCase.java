package io.celerybridge.job;

import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;

import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job submitted as a Flink user does: `flink run` (CliFrontend with the cluster's
 * FLINK_CONF_DIR, which holds parallelism.default 2 and a 5 s checkpoint interval) against the
 * multi-process session cluster. Flink's own options win over the cluster file (-p, -D), the
 * job's options still work (--config, --set, a CELERY_BRIDGE__* variable seen where main runs),
 * `flink stop --savepointPath` then `flink run -s` resumes without -p at the cluster's
 * parallelism; every event is enqueued exactly once throughout.
 */
class FlinkRunDeploymentITCase {

    private static final int PER_PHASE = 300;
    private final FlinkRestClient rest = new FlinkRestClient();

    @Test
    void flinkRunHonoursFlinksOptionsAndTheJobsOwn() throws Exception {
        FlinkCli flink = new FlinkCli();
        String run = UUID.randomUUID().toString();
        String topic = "persistent://public/default/flink-run-it-" + run;
        String queue = "flink-run-it-" + run; // no worker consumes it: the test reads the tasks
        try (PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl(TestServers.pulsarAdminUrl()).build()) {
            admin.topics().createPartitionedTopic(topic, 2);
        }
        Path savepoints = Files.createTempDirectory("flink-run-it-savepoints");
        String jar = FlinkRestClient.shadedJar().toAbsolutePath().toString();
        String[] jobArgs = {"--config", Path.of("..", "conf", "celery-bridge.yaml").toAbsolutePath().normalize().toString(),
            "--set", "topic=" + topic, "--set", "dlq_topic=" + topic + "-dlq", "--set", "pulsar.subscription=flink-run-it",
            "--set", "pulsar.service_url=" + TestServers.pulsarServiceUrl(), "--set", "pulsar.admin_url=" + TestServers.pulsarAdminUrl(),
            "--set", "valkey.uri=" + TestServers.valkeyUri()};
        // Read by the job's main, which `flink run` runs in the CLI's JVM.
        Map<String, String> env = Map.of("CELERY_BRIDGE__CHANNEL", queue);

        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic)
                        .batchingMaxMessages(100).batchingMaxPublishDelay(20, TimeUnit.MILLISECONDS).create();
                CeleryBackendReader valkey = new CeleryBackendReader(TestServers.valkeyUri())) {

            String job = FlinkCli.submittedJob(flink.run(env, concat(new String[] {"run", "-d", "-p", "1",
                "-D", "execution.checkpointing.interval=3s", jar}, jobArgs)));
            rest.awaitRunning(job);
            Map<String, Integer> submitted = rest.parallelismOf(job);
            System.out.println("flink run -p 1 -D execution.checkpointing.interval=3s: " + submitted
                    + ", checkpoint interval " + rest.checkpointInterval(job) + " ms");
            assertThat(submitted).as("-p 1 over the cluster's parallelism.default 2 (the source: one reader per partition)")
                    .allSatisfy((name, p) -> assertThat(p).isEqualTo(name.startsWith("Source: pulsar-source") ? 2 : 1));
            assertThat(rest.checkpointInterval(job)).as("-D over the cluster's 5 s").isEqualTo(3_000);
            TestEvents.publish(producer, run + "-a", PER_PHASE, 10);
            QueuedTasks.awaitDepth(valkey, queue, PER_PHASE, Duration.ofSeconds(120), "after flink run -p 1");

            TestEvents.publish(producer, run + "-b", PER_PHASE, 10); // in flight while the job stops
            String savepoint = FlinkCli.savepointPath(flink.run(Map.of(), "stop", "--savepointPath", savepoints.toUri().toString(), job));
            TestEvents.publish(producer, run + "-c", PER_PHASE, 10); // while no job runs

            String resumed = FlinkCli.submittedJob(flink.run(env, concat(new String[] {"run", "-d", "-s", savepoint, jar}, jobArgs)));
            rest.awaitRunning(resumed);
            System.out.println("flink run -s (no -p, no -D): " + rest.parallelismOf(resumed) + ", checkpoint interval "
                    + rest.checkpointInterval(resumed) + " ms, restored from " + rest.restoredFrom(resumed));
            assertThat(rest.restoredFrom(resumed)).as("flink run -s").isEqualTo(savepoint);
            assertThat(rest.parallelismOf(resumed)).as("no -p: the cluster's parallelism.default 2")
                    .allSatisfy((name, p) -> assertThat(p).isEqualTo(2));
            assertThat(rest.checkpointInterval(resumed)).as("no -D: the cluster's 5 s").isEqualTo(5_000);
            TestEvents.publish(producer, run + "-d", PER_PHASE, 10);

            Settled.consumed(topic, "flink-run-it", Duration.ofSeconds(180));
            Map<String, Integer> ids = QueuedTasks.await(valkey, queue, 4 * PER_PHASE, Duration.ofSeconds(180));
            for (String phase : new String[] {"-a", "-b", "-c", "-d"}) {
                QueuedTasks.tally(ids, run + phase, PER_PHASE).assertExactlyOnce();
            }
            assertThat(ids).as("tasks in the queue set by CELERY_BRIDGE__CHANNEL").hasSize(4 * PER_PHASE);
            flink.run(Map.of(), "cancel", resumed);
        } finally {
            try (CeleryBackendReader valkey = new CeleryBackendReader(TestServers.valkeyUri())) {
                QueuedTasks.delete(valkey, queue);
            }
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
