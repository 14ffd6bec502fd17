package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryTaskIds;
import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.job.config.BridgeConfig;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * No Celery worker at first: the queue fills to celery.max_queue_depth and the job holds there
 * (backpressure, still RUNNING, nothing dropped); then a stock worker starts and every event
 * runs exactly once. 100,000 events; the stock worker (prefork, 4 processes) is the slow part.
 */
class NoWorkerBackpressureITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final int EVENTS = Integer.getInteger("noworker.events", 100_000);
    private static final int MAX_DEPTH = 5_000;

    @Test
    void theQueueFillsToItsMaxDepthThenAWorkerDrainsItAndEveryEventRunsOnce() throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = "persistent://public/default/noworker-" + run;
        String queue = "noworker-" + run;
        try (PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl(TestServers.pulsarAdminUrl()).build()) {
            admin.topics().createPartitionedTopic(topic, 2);
        }
        BridgeConfig config = TestConfigs.forTestServers("topic=" + topic, "pulsar.subscription=noworker", "channel=" + queue,
                "celery.task=celery_bridge.process_event", "celery.max_queue_depth=" + MAX_DEPTH);
        Process worker = null;
        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).enableBatching(true).create();
                CeleryBackendReader valkey = new CeleryBackendReader(TestServers.valkeyUri())) {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            CeleryBridgeJob.forProduction(config).build(env);
            JobClient job = env.executeAsync("noworker-" + run);
            try {
                TestEvents.publish(producer, run, EVENTS, 0);
                QueuedTasks.awaitDepth(valkey, queue, MAX_DEPTH, Duration.ofSeconds(60), "short of celery.max_queue_depth");
                long peak = 0;
                for (int i = 0; i < 25; i++) { // 5 s at the limit
                    peak = Math.max(peak, QueuedTasks.depth(valkey, queue));
                    Thread.sleep(200);
                }
                // Scripts run one at a time in Valkey and each checks the depth before it pushes, so the
                // queue passes the limit by less than one call's worth (celery.messages_per_script).
                int perScript = config.get(io.celerybridge.job.config.BridgeOptions.CELERY_MESSAGES_PER_SCRIPT);
                System.out.printf("peak depth %d with celery.max_queue_depth %d, %d messages per script%n", peak, MAX_DEPTH, perScript);
                assertThat(peak).as("held at celery.max_queue_depth").isBetween((long) MAX_DEPTH, MAX_DEPTH + perScript - 1L);
                assertThat(job.getJobStatus().get()).as("backpressure, not failure").isEqualTo(JobStatus.RUNNING);

                worker = startWorker(queue);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(900);
                List<String> taskIds = new java.util.ArrayList<>();
                for (int i = 0; i < EVENTS; i++) {
                    taskIds.add(CeleryTaskIds.forKey(TestEvents.id(run, i)));
                }
                long[] counts;
                do {
                    Thread.sleep(5_000);
                    counts = executionCounts(valkey, taskIds);
                } while (counts[0] > 0 && System.nanoTime() < deadline);
                Thread.sleep(3_000);
                counts = executionCounts(valkey, taskIds);
                long missing = counts[0];
                long twice = counts[1];
                new ReliabilityReport("No worker, then a worker (NoWorkerBackpressureITCase): celery.max_queue_depth=" + MAX_DEPTH
                        + ", peak depth " + peak).row("no Celery worker until the queue was full", "-", EVENTS,
                        EVENTS - missing, 0, missing, twice).write("no-worker.md");
                assertThat(missing).as("events never executed").isZero();
                assertThat(twice).as("events executed twice").isZero();
            } finally {
                job.cancel().get();
            }
        } finally {
            if (worker != null) {
                worker.destroy();
                worker.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /** [tasks never executed, tasks executed more than once], read from the worker's execution counter. */
    private static long[] executionCounts(CeleryBackendReader valkey, List<String> taskIds) {
        long missing = 0;
        long twice = 0;
        for (int from = 0; from < taskIds.size(); from += 2_000) {
            List<String> chunk = taskIds.subList(from, Math.min(taskIds.size(), from + 2_000));
            for (io.lettuce.core.KeyValue<String, String> kv
                    : valkey.redis().hmget(CeleryBackendReader.EXECUTIONS_KEY, chunk.toArray(new String[0]))) {
                long n = kv.hasValue() ? Long.parseLong(kv.getValue()) : 0;
                missing += n == 0 ? 1 : 0;
                twice += n > 1 ? 1 : 0;
            }
        }
        return new long[] {missing, twice};
    }

    /** A stock Celery worker (Debian's python3-celery) running examples/celery-worker on {@code queue}. */
    private static Process startWorker(String queue) throws Exception {
        Path app = Path.of("..", "examples", "celery-worker").toAbsolutePath().normalize();
        ProcessBuilder pb = new ProcessBuilder(List.of("/usr/bin/python3", "-m", "celery", "-A", "celery_bridge_example", "worker",
                "--pool=prefork", "--concurrency=4", "-Q", queue, "--loglevel=WARNING", "--without-gossip", "--without-mingle",
                "--hostname", "noworker-it@%h"))
                .directory(app.toFile()).redirectErrorStream(true)
                .redirectOutput(Path.of("target", "noworker-celery-worker.log").toFile());
        pb.environment().put("CELERY_BROKER_URL", TestServers.valkeyUri());
        pb.environment().put("CELERY_RESULT_BACKEND", TestServers.valkeyUri());
        try {
            return pb.start();
        } catch (java.io.IOException e) {
            fail("cannot start a Celery worker with /usr/bin/python3 (install python3-celery with dev/install-packages.sh): " + e);
            return null;
        }
    }
}
