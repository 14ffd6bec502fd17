package io.celerybridge.job;

import io.celerybridge.connectors.testutils.TestServers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A session cluster takes many submissions: 10 REST submissions of the job in a row on
 * dev/flink-cluster.sh (stock metaspace, 256m), odd runs stopped with a savepoint and even runs
 * resumed from it and cancelled, leave no job class loader behind in the TaskManager or the
 * JobManager, and metaspace and direct memory where the first run left them. Before, each run kept
 * its class loader in both: in the TaskManager through JNI global references of the Pulsar client's
 * native netty transport ({@code PulsarNativeTransport}), in the JobManager through netty's
 * thread-local map left on a Pekko thread by the enumerator's client ({@code
 * FreshThreadSplitEnumerator}) and, for resumed runs, through a close that never ended after Flink
 * had closed the loader under it ({@code PulsarClientClosingClasses}): about 27 MB of metaspace
 * (and, in the TaskManager, 25 MB of direct memory) per run, until {@code OutOfMemoryError:
 * Metaspace} after about six. Memory is read after a full GC ({@code jcmd GC.run} on the process),
 * from the REST metrics.
 */
class ClassLoaderReleaseDeploymentITCase {

    private static final int RUNS = 10;
    // Each leaked run held about 27 MB of metaspace and 25 MB of direct memory, so 9 more runs would
    // add over 200 MB of each; one GC can leave a finished run's share around, hence some slack.
    private static final long ALLOWED_GROWTH = 60L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    private final FlinkRestClient flink = new FlinkRestClient();
    private final HttpClient http = HttpClient.newHttpClient();
    private final String rest = TestServers.flinkRestUrl();

    @Test
    void tenSubmissionsLeaveNoClassLoaderAndNoMemoryBehind() throws Exception {
        Path clusterDir = Path.of(required(FlinkCli.CONF_DIR_ENV)).getParent();
        FlinkProcess tmProcess = new FlinkProcess("TaskManager", Files.readString(clusterDir.resolve("TM.pid")).trim(),
                "/taskmanagers/" + get("/taskmanagers").path("taskmanagers").get(0).path("id").asText() + "/metrics");
        FlinkProcess jmProcess = new FlinkProcess("JobManager", Files.readString(clusterDir.resolve("JM.pid")).trim(), "/jobmanager/metrics");
        String tm = get("/taskmanagers").path("taskmanagers").get(0).path("id").asText();
        String jar = flink.uploadShadedJar();

        // Loaders of jobs that earlier tests ran on this cluster, if any: this test counts its own.
        long[] before = {afterRelease(tmProcess, 0)[2], afterRelease(jmProcess, 0)[2]};
        Path jmLog = clusterDir.resolve("JM.log");
        long jmLogLines = lineCount(jmLog);
        System.out.printf("before: job class loaders TaskManager %d, JobManager %d%n", before[0], before[1]);
        long[][] baseline = null;
        String run = null;
        String savepoint = null;
        for (int i = 1; i <= RUNS; i++) {
            // Odd runs start fresh and stop with a savepoint; even runs resume from it and are cancelled:
            // both ways a job ends, and the restore path, which kept its loader in the JobManager.
            boolean resume = i % 2 == 0;
            if (!resume) {
                run = "classloader-it-" + UUID.randomUUID();
            }
            String job = flink.runJar(jar, "persistent://public/default/" + run, run, 1, resume ? savepoint : null, "channel=" + run);
            flink.awaitRunning(job);
            if (resume) {
                flink.cancel(job);
                awaitState(job, "CANCELED");
            } else {
                savepoint = flink.stopWithSavepoint(job);
                awaitState(job, "FINISHED");
            }
            long[][] now = {afterRelease(tmProcess, before[0]), afterRelease(jmProcess, before[1])};
            for (int p = 0; p < 2; p++) {
                FlinkProcess proc = p == 0 ? tmProcess : jmProcess;
                System.out.printf("run %d, %s: job class loaders %d, metaspace %.1f MB, direct %.1f MB%n",
                        i, proc.name, now[p][2], now[p][0] / 1e6, now[p][1] / 1e6);
                // Now and then (2 of about 50 runs) one finished job's loader was still loaded in the
                // TaskManager 20 s after its cancellation, and gone after the next run (its holder is not
                // found yet); loaders never accumulated. A leak per run fails here at run 2.
                assertThat(now[p][2] - before[p]).as("job class loaders of this test still loaded in the %s after run %d and a full GC",
                        proc.name, i).isLessThanOrEqualTo(1);
            }
            assertThat(get("/taskmanagers").path("taskmanagers").get(0).path("id").asText())
                    .as("the same TaskManager, never restarted").isEqualTo(tm);
            if (baseline == null) {
                baseline = now;
            }
        }
        // Flink closes a source's enumerator asynchronously and may close the job's class loader first
        // (FLINK-24680): a Pulsar client closing then failed to load its classes, its threads died or
        // hung, and the hung close kept the loader.
        try (Stream<String> lines = Files.lines(jmLog)) {
            assertThat(lines.skip(jmLogLines).filter(l -> l.contains("NoClassDefFoundError")).toList())
                    .as("JobManager log lines of this test's runs with a NoClassDefFoundError").isEmpty();
        }
        for (int p = 0; p < 2; p++) {
            FlinkProcess proc = p == 0 ? tmProcess : jmProcess;
            long[] end = afterRelease(proc, before[p]);
            assertThat(end[0] - baseline[p][0]).as("%s metaspace growth over runs 2..%d", proc.name, RUNS).isLessThan(ALLOWED_GROWTH);
            assertThat(end[1] - baseline[p][1]).as("%s direct memory growth over runs 2..%d", proc.name, RUNS).isLessThan(ALLOWED_GROWTH);
        }
    }

    /** A Flink process of dev/flink-cluster.sh: its pid (for jcmd) and its REST metrics path. */
    private record FlinkProcess(String name, String pid, String metrics) {}

    /**
     * After a cancellation the cluster frees the job's slots and closes its class loaders
     * asynchronously: full GCs until at most {@code loaders} job class loaders are left (up to 20 s),
     * then the figures.
     */
    private long[] afterRelease(FlinkProcess process, long loaders) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long[] now = afterFullGc(process);
        while (now[2] > loaders && System.nanoTime() < deadline) {
            Thread.sleep(1_000);
            now = afterFullGc(process);
        }
        return now;
    }

    /** {metaspace used, direct memory used, loaded ChildFirstClassLoader instances} after a full GC. */
    private long[] afterFullGc(FlinkProcess process) throws Exception {
        jcmd(process.pid, "GC.run");
        long loaders = jcmd(process.pid, "GC.class_histogram").lines()
                .filter(l -> l.endsWith(" org.apache.flink.util.ChildFirstClassLoader"))
                .mapToLong(l -> Long.parseLong(l.trim().split("\\s+")[1])).sum();
        JsonNode m = get(process.metrics + "?get=Status.JVM.Memory.Metaspace.Used,Status.JVM.Memory.Direct.MemoryUsed");
        long metaspace = 0;
        long direct = 0;
        for (JsonNode v : m) {
            if (v.path("id").asText().endsWith("Metaspace.Used")) {
                metaspace = v.path("value").asLong();
            } else {
                direct = v.path("value").asLong();
            }
        }
        return new long[] {metaspace, direct, loaders};
    }

    private static String jcmd(String pid, String command) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), pid, command)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            fail("jcmd " + pid + " " + command + " failed: " + out);
        }
        return out;
    }

    private void awaitState(String job, String state) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (state.equals(get("/jobs/" + job).path("state").asText())) {
                return;
            }
            Thread.sleep(200);
        }
        fail("job " + job + " not " + state + " after 60 s");
    }

    private static long lineCount(Path file) throws Exception {
        try (Stream<String> lines = Files.lines(file)) {
            return lines.count();
        }
    }

    private JsonNode get(String path) throws Exception {
        return JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(rest + path)).build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    private static String required(String env) {
        String v = System.getenv(env);
        if (v == null || v.isBlank()) {
            fail(env + " is not set: start the cluster with dev/flink-cluster.sh, then `dev/stack.sh up` writes it to .dev/env");
        }
        return v;
    }
}
