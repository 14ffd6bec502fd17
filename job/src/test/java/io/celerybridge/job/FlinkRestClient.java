package io.celerybridge.job;

import io.celerybridge.connectors.testutils.TestServers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** The REST calls the deployment tests make to the real Flink cluster: upload, run, wait, stop. */
final class FlinkRestClient {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String rest;

    /** The test cluster's REST endpoint. */
    FlinkRestClient() {
        this(TestServers.flinkRestUrl());
    }

    FlinkRestClient(String rest) {
        this.rest = rest;
    }

    /** A MiniCluster's REST endpoint. */
    static FlinkRestClient of(org.apache.flink.configuration.Configuration clientConfiguration) {
        return new FlinkRestClient("http://" + clientConfiguration.get(org.apache.flink.configuration.RestOptions.ADDRESS)
                + ":" + clientConfiguration.get(org.apache.flink.configuration.RestOptions.PORT));
    }

    /** The job's checkpoint counts: completed, failed, in_progress, ... ({@code /jobs/:id/checkpoints}). */
    JsonNode checkpointCounts(String job) throws Exception {
        return get("/jobs/" + job + "/checkpoints").path("counts");
    }

    /** Runs the uploaded jar against a topic, configured through --set, optionally from a savepoint. */
    String runJar(String jarId, String topic, String run, int parallelism, String savepoint, String... moreSets) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode args = body.putArray("programArgsList");
        List<String> sets = new java.util.ArrayList<>(List.of(
                "topic=" + topic, "dlq_topic=" + topic + "-dlq", "pulsar.subscription=cluster-it-" + run,
                "pulsar.service_url=" + TestServers.pulsarServiceUrl(), "pulsar.admin_url=" + TestServers.pulsarAdminUrl(),
                "valkey.uri=" + TestServers.valkeyUri(), "checkpointing.interval=1s"));
        sets.addAll(List.of(moreSets));
        for (String set : sets) {
            args.add("--set").add(set);
        }
        body.put("parallelism", parallelism); // the REST way; the job leaves parallelism to Flink
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
    String stopWithSavepoint(String job) throws Exception {
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

    /** Waits until every subtask of every vertex runs. */
    void awaitRunning(String job) throws Exception {
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

    /** Parallelism by vertex name. */
    java.util.Map<String, Integer> parallelismOf(String job) throws Exception {
        java.util.Map<String, Integer> p = new java.util.LinkedHashMap<>();
        for (JsonNode v : get("/jobs/" + job).path("vertices")) {
            p.put(v.get("name").asText(), v.get("parallelism").asInt());
        }
        return p;
    }

    void cancel(String job) throws Exception {
        http.send(HttpRequest.newBuilder(URI.create(rest + "/jobs/" + job + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The module's shaded jar, built by the package phase before the ITCases. */
    static Path shadedJar() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            return files.filter(p -> p.getFileName().toString().matches("celery-bridge-job-.*\\.jar"))
                    .findFirst().orElseGet(() -> fail("no shaded jar in target/: run `mvn verify` (package comes first)"));
        }
    }

    /** The checkpoint interval the running job has, in ms. */
    long checkpointInterval(String job) throws Exception {
        return get("/jobs/" + job + "/checkpoints/config").path("interval").asLong();
    }

    /** How often the job restarted (its {@code numRestarts} metric). */
    long restarts(String job) throws Exception {
        for (JsonNode m : get("/jobs/" + job + "/metrics?get=numRestarts")) {
            return m.path("value").asLong();
        }
        return 0; // not fetched yet: the REST metric fetcher is asynchronous
    }

    /** Polls until the job has restarted at least once, failing after {@code seconds}. */
    void awaitRestart(String job, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (restarts(job) < 1) {
            if (System.nanoTime() > deadline) {
                fail("job " + job + " did not restart within " + seconds + " s: the fault did not reach it");
            }
            Thread.sleep(200);
        }
    }

    /** The ids of the TaskManagers registered now. */
    java.util.Set<String> taskManagers() throws Exception {
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (JsonNode tm : get("/taskmanagers").path("taskmanagers")) {
            ids.add(tm.path("id").asText());
        }
        return ids;
    }

    /** The job's RUNNING subtasks, counted by the TaskManager that runs them. */
    java.util.Map<String, Integer> runningSubtasksByTaskManager(String job) throws Exception {
        java.util.Map<String, Integer> byTm = new java.util.HashMap<>();
        for (JsonNode v : get("/jobs/" + job).path("vertices")) {
            for (JsonNode subtask : get("/jobs/" + job + "/vertices/" + v.path("id").asText()).path("subtasks")) {
                if ("RUNNING".equals(subtask.path("status").asText())) {
                    byTm.merge(subtask.path("taskmanager-id").asText(), 1, Integer::sum);
                }
            }
        }
        return byTm;
    }

    /**
     * Runs {@code kill}, which must take one TaskManager away, and checks that it ran subtasks of
     * the job: a fault that hit an idle TaskManager would prove nothing.
     */
    void killTaskManagerRunning(String job, org.apache.flink.util.function.ThrowingRunnable<Exception> kill) throws Exception {
        java.util.Map<String, Integer> byTm = runningSubtasksByTaskManager(job);
        java.util.Set<String> before = taskManagers();
        kill.run();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        java.util.Set<String> gone = new java.util.HashSet<>(before);
        while (true) {
            gone.removeAll(taskManagers());
            if (!gone.isEmpty() || System.nanoTime() > deadline) {
                break;
            }
            gone = new java.util.HashSet<>(before);
            Thread.sleep(200);
        }
        assertThat(gone).as("TaskManagers gone after the kill (of %s)", before).hasSize(1);
        assertThat(byTm.getOrDefault(gone.iterator().next(), 0)).as("running subtasks of the job on the killed TaskManager (%s)", byTm)
                .isGreaterThan(0);
    }

    /** The savepoint or checkpoint the job restored from, or null. */
    String restoredFrom(String job) throws Exception {
        JsonNode restored = get("/jobs/" + job + "/checkpoints").path("latest").path("restored");
        return restored.isMissingNode() || restored.isNull() ? null : restored.path("external_path").asText();
    }

    /** Uploads the module's shaded jar and returns its id. */
    String uploadShadedJar() throws Exception {
        Path jar = shadedJar();
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
