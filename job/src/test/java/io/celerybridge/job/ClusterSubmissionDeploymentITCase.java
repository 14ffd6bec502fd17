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
 * The deployment path: the shaded jar submitted over REST to a real JobManager + TaskManager
 * (dev/flink-cluster.sh), configured through its command line; events flow from Pulsar to a real
 * Celery worker, each exactly once. (Savepoint and rescale: {@link SavepointRescaleDeploymentITCase}.)
 *
 * <p>Back in the default build. The stall seen earlier here (2 of 7 runs: a partition's entry
 * dispatched by the broker but never emitted) came with a TaskManager that ran out of direct
 * memory and then metaspace after many submissions to the same session cluster (finished jobs'
 * class loaders stay loaded); dev/test.sh starts a fresh cluster with a task off-heap budget and
 * more metaspace, and the source gives each partition its own reader (FLINK-37663).
 */
class ClusterSubmissionDeploymentITCase {

    private static final int PER_PHASE = 300;
    private final FlinkRestClient flink = new FlinkRestClient();

    @Test
    void shadedJarRunsOnAMultiProcessCluster() throws Exception {
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
            publish(producer, run, 1, taskIds);
            java.util.Map<String, JsonNode> results = backend.awaitResults(taskIds, Duration.ofSeconds(120));
            assertThat(results).as("every event ran on the cluster").hasSize(taskIds.size());
            Settled.consumed(topic, "cluster-it-" + run, Duration.ofSeconds(120));
            Settled.fetchedByWorker(backend, "celery", Duration.ofSeconds(120));
            for (String id : taskIds) {
                assertThat(backend.executions(id)).as("executions of %s", id).isEqualTo(1);
            }
            flink.cancel(job);
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
