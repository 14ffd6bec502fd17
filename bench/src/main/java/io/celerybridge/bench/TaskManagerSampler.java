package io.celerybridge.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Samples the TaskManager process from outside: CPU time and RSS from /proc, used heap from
 * Flink's REST metrics (Status.JVM.Memory.Heap.Used), and the whole machine's busy CPU time.
 */
final class TaskManagerSampler implements AutoCloseable {

    /** One sample: seconds since start, heap and RSS in MB. */
    record Sample(double seconds, double heapMb, double rssMb) {}

    private static final double TICKS_PER_SECOND = 100.0; // USER_HZ on Linux
    private static final ObjectMapper JSON = new ObjectMapper();

    private final long pid;
    private final String restUrl;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<Sample> samples = new ArrayList<>();
    private final Thread thread;
    private final long start = System.nanoTime();
    private volatile boolean running = true;
    private String taskManagerId;

    TaskManagerSampler(String restUrl, long pid, Duration every) {
        this.restUrl = restUrl;
        this.pid = pid;
        this.thread = new Thread(() -> {
            while (running) {
                try {
                    Sample s = new Sample((System.nanoTime() - start) / 1e9, heapMb(), rssMb());
                    synchronized (samples) {
                        samples.add(s);
                    }
                    Thread.sleep(every.toMillis());
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    System.err.println("sampler: " + e);
                }
            }
        }, "tm-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    /** CPU seconds (user + system) the TaskManager process has used so far. */
    double cpuSeconds() throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND; // utime, stime
    }

    /** Busy CPU seconds of the whole machine so far (all cores). */
    static double machineBusySeconds() throws IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long total = 0;
        for (int i = 1; i < Math.min(f.length, 9); i++) {
            total += Long.parseLong(f[i]);
        }
        long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
        return (total - idle) / TICKS_PER_SECOND;
    }

    private double rssMb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
            }
        }
        throw new IOException("no VmRSS for pid " + pid);
    }

    private double heapMb() throws Exception {
        if (taskManagerId == null) {
            taskManagerId = get("/taskmanagers").path("taskmanagers").path(0).path("id").asText(null);
            if (taskManagerId == null) {
                return Double.NaN;
            }
        }
        JsonNode metric = get("/taskmanagers/" + taskManagerId + "/metrics?get=Status.JVM.Memory.Heap.Used").path(0);
        return metric.isMissingNode() ? Double.NaN : metric.path("value").asDouble() / (1024 * 1024);
    }

    private JsonNode get(String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(restUrl + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    /**
     * The live heap: a full collection (jcmd GC.run), then the used heap jcmd reports. The
     * floor of heap samples is no leak test under G1, whose old generation holds garbage until
     * a marking cycle; what survives a full collection is.
     */
    double liveHeapMb() throws IOException, InterruptedException {
        jcmd("GC.run");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(jcmd("GC.heap_info"));
        if (!m.find()) {
            throw new IOException("no heap figures from jcmd " + pid + " GC.heap_info");
        }
        return Long.parseLong(m.group(2)) / 1024.0;
    }

    private String jcmd(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid), command)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("jcmd " + pid + " " + command + " failed: " + out);
        }
        return out;
    }

    double maxHeapMb() {
        return snapshot().stream().mapToDouble(Sample::heapMb).filter(d -> !Double.isNaN(d)).max().orElse(Double.NaN);
    }

    double maxRssMb() {
        return snapshot().stream().mapToDouble(Sample::rssMb).max().orElse(Double.NaN);
    }

    List<Sample> snapshot() {
        synchronized (samples) {
            return new ArrayList<>(samples);
        }
    }

    void writeCsv(Path file) throws IOException {
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(file))) {
            w.println("seconds,heap_mb,rss_mb");
            for (Sample s : snapshot()) {
                w.printf("%.1f,%.1f,%.1f%n", s.seconds(), s.heapMb(), s.rssMb());
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(5_000);
    }
}
