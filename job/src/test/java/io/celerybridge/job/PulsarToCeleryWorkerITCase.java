package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryTaskIds;
import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.job.config.BridgeConfig;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * End to end with real parts only (each event is also published again, within its batch for
 * one in ten and a second time for all, and must still run exactly once): events published to a real Pulsar broker go through the job
 * on a MiniCluster into a real Valkey, and a real Python Celery worker (examples/celery-worker,
 * started by dev/stack.sh) executes them; its results and execution counts are read back.
 */
class PulsarToCeleryWorkerITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int EVENTS = 300;
    private static final Duration WORKER_DEADLINE = Duration.ofSeconds(120);

    @ParameterizedTest(name = "topic partitions: {0}")
    @ValueSource(ints = {2, 0})
    void everyEventRunsExactlyOnceOnAStockCeleryWorker(int partitions) throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = partitions > 0 ? "persistent://public/default/e2e-" + run : unluckyNonPartitionedTopic();
        if (partitions > 0) {
            try (PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl(TestServers.pulsarAdminUrl()).build()) {
                admin.topics().createPartitionedTopic(topic, partitions);
            }
        }
        BridgeConfig settings = TestConfigs.forTestServers(
                "topic=" + topic,
                "pulsar.subscription=e2e-" + run,
                "channel=celery",
                "celery.task=celery_bridge.process_event");

        Map<String, JsonNode> expectedByTaskId = new LinkedHashMap<>();
        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).create();
                CeleryBackendReader backend = new CeleryBackendReader(TestServers.valkeyUri())) {

            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            CeleryBridgeJob.forProduction(settings).build(env);
            JobClient job = env.executeAsync("e2e-" + run);
            try {
                for (int i = 0; i < EVENTS; i++) {
                    String id = run + "-" + i;
                    String payload = "{\"id\":\"" + id + "\",\"n\":" + i + ",\"text\":\"Zoë 東京 " + i + "\"}";
                    expectedByTaskId.put(CeleryTaskIds.forKey(id), JSON.readTree(payload));
                    producer.sendAsync(payload.getBytes(StandardCharsets.UTF_8));
                    if (i % 10 == 0) {
                        producer.sendAsync(payload.getBytes(StandardCharsets.UTF_8)); // a repeat in the same batch
                    }
                    if (i == EVENTS / 2) {
                        // A malformed event must not stop the job (it is rejected with its reason).
                        producer.sendAsync("{not json".getBytes(StandardCharsets.UTF_8));
                    }
                }
                producer.flush();

                Map<String, JsonNode> results = backend.awaitResults(expectedByTaskId.keySet(), WORKER_DEADLINE);
                // Every event again, long after the first copies ran: all repeats must be dropped.
                for (JsonNode payload : expectedByTaskId.values()) {
                    producer.sendAsync(JSON.writeValueAsBytes(payload));
                }
                producer.flush();
                if (results.size() < EVENTS) {
                    fail("only " + results.size() + " of " + EVENTS + " tasks were executed within " + WORKER_DEADLINE
                            + ". Is a Celery worker consuming queue 'celery' on " + TestServers.valkeyUri()
                            + "? Start one with `dev/celery-worker.sh start` (or `dev/stack.sh up`). "
                            + "Tasks still waiting in the queue: " + backend.redis().llen("celery"));
                }
                // The repeats were read and checkpointed, and every task is out of the queue, before
                // anything is said about second executions.
                Settled.consumed(topic, "e2e-" + run, WORKER_DEADLINE);
                Settled.fetchedByWorker(backend, "celery", WORKER_DEADLINE);
                for (Map.Entry<String, JsonNode> e : expectedByTaskId.entrySet()) {
                    JsonNode result = results.get(e.getKey());
                    assertThat(result.get("status").asText()).as("status of %s", e.getKey()).isEqualTo("SUCCESS");
                    assertThat(result.get("result").get("event")).as("arguments of %s", e.getKey()).isEqualTo(e.getValue());
                    assertThat(backend.executions(e.getKey())).as("executions of %s", e.getKey()).isEqualTo(1);
                }
            } finally {
                job.cancel().get();
            }
        }
    }

    /**
     * A non-partitioned topic whose name sends its split to reader -1 in flink-connector-pulsar
     * 4.1.0 at parallelism 2 ({@code (startIndex + partitionId) % p} with partition id -1): never
     * read unless the job runs that source at parallelism 1, as it must.
     */
    private static String unluckyNonPartitionedTopic() {
        while (true) {
            String topic = "persistent://public/default/e2e-" + UUID.randomUUID();
            if (((topic.hashCode() * 31) & 0x7FFFFFFF) % 2 == 0) {
                return topic;
            }
        }
    }
}
