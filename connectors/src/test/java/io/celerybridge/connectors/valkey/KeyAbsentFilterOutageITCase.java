package io.celerybridge.connectors.valkey;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.File;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The idempotency check through a real Valkey outage: a private valkey-server process (on PATH,
 * as dev/install-packages.sh installs it) is killed while events flow, and started again. Events
 * are held meanwhile, then checked against the recovered server; none dropped or duplicated.
 */
class KeyAbsentFilterOutageITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1).build());

    static final BlockingQueue<String> FEED = new LinkedBlockingQueue<>();

    private Process valkey;
    private int port;

    @AfterEach
    void stopValkey() {
        if (valkey != null) {
            valkey.destroyForcibly();
        }
    }

    @Test
    void holdsEventsDuringAnOutageAndChecksThemAfterRecovery() throws Exception {
        port = freePort();
        startValkey();
        set("present-1");
        FEED.clear();

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        try (CloseableIterator<String> out = AsyncDataStream.unorderedWaitWithRetry(
                        env.addSource(new FeedSource()).returns(String.class),
                        new KeyAbsentFilter<String>(ValkeyClientProvider.forUri("redis://127.0.0.1:" + port + "/0?timeout=500ms"),
                                k -> k, 0, java.time.Duration.ofHours(1)),
                        30_000, TimeUnit.MILLISECONDS, 10,
                        new StatelessExponentialBackoff<>(Integer.MAX_VALUE, 20, 200, KeyAbsentFilter::isTransient))
                .executeAndCollect()) {

            FEED.add("present-1");
            FEED.add("a");
            assertThat(out.next()).isEqualTo("a");

            valkey.destroyForcibly().waitFor();
            FEED.add("b");
            Thread.sleep(3_000);
            long restartedAt = System.nanoTime();
            startValkey();
            set("present-2");
            FEED.add("present-2");
            FEED.add("c");

            String first = out.next();
            long arrived = System.nanoTime();
            String second = out.next();
            assertThat(arrived).as("b was held until Valkey came back, not passed or dropped").isGreaterThan(restartedAt);
            assertThat(java.util.List.of(first, second)).containsExactlyInAnyOrder("b", "c");
        }
    }

    /** Emits what the test puts into FEED, until cancelled. */
    @SuppressWarnings("deprecation")
    static final class FeedSource implements org.apache.flink.streaming.api.functions.source.SourceFunction<String> {
        private volatile boolean running = true;

        @Override
        public void run(SourceContext<String> ctx) throws Exception {
            while (running) {
                String next = FEED.poll(50, TimeUnit.MILLISECONDS);
                if (next != null) {
                    ctx.collect(next);
                }
            }
        }

        @Override
        public void cancel() {
            running = false;
        }
    }

    private void startValkey() throws Exception {
        String binary = findOnPath("valkey-server");
        Path dir = Files.createTempDirectory("valkey-outage");
        valkey = new ProcessBuilder(binary, "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", dir.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("valkey.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return;
            } catch (java.io.IOException notYet) {
                if (System.nanoTime() > deadline) {
                    fail("valkey-server did not start on port " + port + "; see " + dir.resolve("valkey.log"));
                }
                Thread.sleep(50);
            }
        }
    }

    private void set(String key) {
        RedisClient client = RedisClient.create("redis://127.0.0.1:" + port + "/0");
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            c.sync().set(key, "1");
        } finally {
            client.shutdown();
        }
    }

    private static String findOnPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            File f = new File(dir, name);
            if (f.canExecute()) {
                return f.getAbsolutePath();
            }
        }
        return fail("this test starts its own Valkey and needs '" + name + "' on PATH: run dev/install-packages.sh");
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
