package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryTaskIds;
import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stop with a savepoint, resume at another parallelism, on the real multi-process cluster:
 * every event must run exactly once.
 *
 * <p>After resuming at parallelism 1 the source keeps one reader per partition (2): one reader
 * over both partitions once left one partition unread here (FLINK-37663, see
 * PulsarTopicPartitions#oneReaderPerPartition).
 */
class SavepointRescaleDeploymentITCase {

    private static final int PER_PHASE = 300;
    private final FlinkRestClient flink = new FlinkRestClient();

    @Test
    void everyEventRunsOnceAcrossSavepointAndRescale() throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = "persistent://public/default/cluster-it-" + run;
        try (PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl(TestServers.pulsarAdminUrl()).build()) {
            admin.topics().createPartitionedTopic(topic, 2);
        }
        String jarId = flink.uploadShadedJar();
        List<String> taskIds = new ArrayList<>();

        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic)
                        .batchingMaxMessages(100).batchingMaxPublishDelay(20, TimeUnit.MILLISECONDS).create();
                CeleryBackendReader backend = new CeleryBackendReader(TestServers.valkeyUri())) {

            String job = flink.runJar(jarId, topic, run, 2, null);
            flink.awaitRunning(job);
            publish(producer, run, 0, taskIds);
            assertThat(backend.awaitResults(taskIds, Duration.ofSeconds(120))).as("phase 1 ran on the cluster").hasSize(PER_PHASE);

            publish(producer, run, 1, taskIds); // in flight while the job stops
            String savepoint = flink.stopWithSavepoint(job);
            publish(producer, run, 2, taskIds); // published while no job runs

            String resumed = flink.runJar(jarId, topic, run, 1, savepoint);
            flink.awaitRunning(resumed);
            java.util.Map<String, Integer> vertices = flink.parallelismOf(resumed);
            vertices.forEach((name, p) -> assertThat(p).as("parallelism of %s", name)
                    .isEqualTo(name.startsWith("Source: pulsar-source") ? 2 : 1)); // one reader per partition, else as configured
            publish(producer, run, 3, taskIds);

            java.util.Map<String, JsonNode> results = backend.awaitResults(taskIds, Duration.ofSeconds(180));
            assertThat(results).as("no event lost across savepoint and rescale").hasSize(taskIds.size());
            Settled.consumed(topic, "cluster-it-" + run, Duration.ofSeconds(120));
            Settled.fetchedByWorker(backend, "celery", Duration.ofSeconds(120));
            for (String id : taskIds) {
                assertThat(backend.executions(id)).as("executions of %s", id).isEqualTo(1);
            }
            flink.cancel(resumed);
        }
    }

    private void publish(Producer<byte[]> producer, String run, int phase, List<String> taskIds) throws Exception {
        for (int i = 0; i < PER_PHASE; i++) {
            String id = run + "-" + phase + "-" + i;
            taskIds.add(CeleryTaskIds.forKey(id));
            producer.sendAsync(("{\"id\": \"" + id + "\", \"phase\": " + phase + "}").getBytes(StandardCharsets.UTF_8));
        }
        producer.flush();
    }
}
