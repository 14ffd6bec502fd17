package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryTaskIds;
import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The documented metrics, scraped from Flink's Prometheus reporter while the job runs. */
class MetricsITCase {

    /** Away from the local Flink cluster's reporters (9249-9252). */
    static final String PORTS = "9290-9299";

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2)
                    .setConfiguration(prometheus()).build());

    static final List<String> DOCUMENTED = List.of(
            "flink_taskmanager_job_task_operator_eventsIn",
            "flink_taskmanager_job_task_operator_duplicatesDropped",
            "flink_taskmanager_job_task_operator_tasksEncoded",
            "flink_taskmanager_job_task_operator_udfRetries",
            "flink_taskmanager_job_task_operator_circuitState",
            "flink_taskmanager_job_task_operator_udfInputPaused",
            "flink_taskmanager_job_task_operator_rateLimitWaitMs",
            "flink_taskmanager_job_task_operator_tasksEnqueued",
            "flink_taskmanager_job_task_operator_duplicatesSkippedAtEnqueue",
            "flink_taskmanager_job_task_operator_enqueueTransientErrors",
            "flink_taskmanager_job_task_operator_queueFullWaits",
            "flink_taskmanager_job_task_operator_enqueueLatencyMs",
            "flink_taskmanager_job_task_operator_endToEndLatencyMs",
            "flink_taskmanager_job_task_operator_celeryQueueDepth",
            "flink_taskmanager_job_task_operator_enqueueNotDurableRetries",
            "flink_taskmanager_job_task_operator_idempotencyKeysProjected",
            "flink_taskmanager_job_task_operator_dlq_reason_records");

    @Test
    void documentedMetricsAreExported() throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = "persistent://public/default/metrics-it-" + run;
        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).create();
                CeleryBackendReader backend = new CeleryBackendReader(TestServers.valkeyUri())) {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            CeleryBridgeJob.forProduction(TestConfigs.forTestServers("topic=" + topic, "pulsar.subscription=metrics-it"))
                    .build(env);
            JobClient job = env.executeAsync("metrics-it");
            try {
                List<String> taskIds = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    String id = run + "-" + i;
                    taskIds.add(CeleryTaskIds.forKey(id));
                    byte[] payload = ("{\"id\": \"" + id + "\"}").getBytes(StandardCharsets.UTF_8);
                    producer.send(payload);
                    producer.send(payload);
                }
                producer.send("not json".getBytes(StandardCharsets.UTF_8));
                assertThat(backend.awaitResults(taskIds, Duration.ofSeconds(60))).hasSize(20);

                String scraped = "";
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (System.nanoTime() < deadline) {
                    scraped = scrape();
                    String s = scraped;
                    if (DOCUMENTED.stream().allMatch(s::contains) && s.contains("reason=\"MALFORMED_JSON\"")) {
                        break;
                    }
                    Thread.sleep(1_000);
                }
                for (String metric : DOCUMENTED) {
                    assertThat(scraped).as("metric %s", metric).contains(metric);
                }
                assertThat(scraped).contains("reason=\"MALFORMED_JSON\"");
                assertThat(value(scraped, "flink_taskmanager_job_task_operator_tasksEnqueued")).isEqualTo(20);
                assertThat(value(scraped, "flink_taskmanager_job_task_operator_eventsIn")).isEqualTo(41);
            } finally {
                job.cancel().get();
            }
        }
    }

    /** Sum of a metric's samples over all label sets (subtasks). */
    private static double value(String scraped, String metric) {
        double sum = 0;
        for (String line : scraped.split("\n")) {
            if (line.startsWith(metric + "{") && line.contains("job_name=\"metrics_it\"")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    private static String scrape() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        StringBuilder all = new StringBuilder();
        for (int port = 9290; port <= 9299; port++) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && r.body().contains("flink_")) {
                    all.append(r.body());
                }
            } catch (java.io.IOException notListening) {
                // next port
            }
        }
        return all.toString();
    }

    private static Configuration prometheus() {
        Configuration c = new Configuration();
        c.setString("metrics.reporter.prom.factory.class", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        c.setString("metrics.reporter.prom.port", PORTS);
        return c;
    }
}
