package io.celerybridge.connectors.testutils;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A valkey-server of a test's own (persistence, TLS, ACL users), on a free port, its files in a
 * directory of the test's; fails with a clear message when valkey-server is not installed.
 */
public final class LocalValkey implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final List<String> args;
    private Process process;

    private LocalValkey(Path dir, int port, List<String> args) {
        this.dir = dir;
        this.port = port;
        this.args = args;
    }

    /**
     * @param options valkey-server options; {@code {port}} in them is replaced by the port (pass
     *     {@code "--port", "0", "--tls-port", "{port}"} for TLS only), else it listens in plain text on it
     */
    public static LocalValkey start(Path dir, String... options) throws Exception {
        Files.createDirectories(dir);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> args = new ArrayList<>(List.of("valkey-server", "--bind", "127.0.0.1", "--dir", dir.toString(), "--save", ""));
        if (!Arrays.asList(options).contains("--port")) {
            args.addAll(List.of("--port", Integer.toString(port)));
        }
        for (String o : options) {
            args.add(o.replace("{port}", Integer.toString(port)));
        }
        LocalValkey v = new LocalValkey(dir, port, args);
        v.launch();
        return v;
    }

    /**
     * A Sentinel (valkey-server --sentinel, its config file in {@code dir}) monitoring the primary
     * {@code name} on {@code primaryPort}, quorum 2, declaring it down after 1 s.
     */
    public static LocalValkey startSentinel(Path dir, String name, int primaryPort) throws Exception {
        Files.createDirectories(dir);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path conf = dir.resolve("sentinel.conf");
        Files.writeString(conf, String.join("\n",
                "port " + port,
                "bind 127.0.0.1",
                "dir " + dir,
                "sentinel monitor " + name + " 127.0.0.1 " + primaryPort + " 2",
                "sentinel down-after-milliseconds " + name + " 1000",
                "sentinel failover-timeout " + name + " 10000",
                ""));
        LocalValkey v = new LocalValkey(dir, port, List.of("valkey-server", conf.toString(), "--sentinel"));
        v.launch();
        return v;
    }

    public int port() {
        return port;
    }

    private void launch() throws Exception {
        try {
            process = new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(dir.resolve("valkey.log").toFile()).start();
        } catch (IOException e) {
            fail("this test starts its own valkey-server, and none is on the PATH: " + e.getMessage()
                    + ". Install it with dev/install-packages.sh.");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline || !process.isAlive()) {
                    fail("valkey-server did not start on port " + port + ": " + Files.readString(dir.resolve("valkey.log")));
                }
                Thread.sleep(100);
            }
        }
    }

    /** SIGTERM (the server syncs its append-only file and exits), a pause, and up again on the same files. */
    public void restart() throws Exception {
        process.destroy();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("valkey-server stopped").isTrue();
        Thread.sleep(3_000);
        launch();
    }

    /** {@code redis://127.0.0.1:<port>/0}. */
    public String uri() {
        return "redis://127.0.0.1:" + port + "/0";
    }

    /** Runs {@code f} on a fresh connection to this server. */
    public <T> T call(Function<RedisCommands<String, String>, T> f) {
        RedisClient client = RedisClient.create(uri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            return f.apply(c.sync());
        } finally {
            client.shutdown(0, 0, TimeUnit.MILLISECONDS);
        }
    }

    /** {@code INFO <section>}. */
    public String info(String section) {
        return call(c -> c.info(section));
    }

    /**
     * Polls until {@code condition} holds, failing with {@code what} after 60 s. A condition that
     * throws counts as not yet: servers in a failover refuse or drop connections (Sentinel kills the
     * clients of the nodes it reconfigures).
     */
    public static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        RuntimeException last = null;
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                fail("not within 60 s: " + what + (last == null ? "" : " (last error: " + last + ")"));
            }
            Thread.sleep(100);
        }
    }

    /** SIGKILL: no fsync, no snapshot, as a crash. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("valkey-server killed").isTrue();
    }

    /** SIGKILL, then up again on the same port and files: what a crash and a restart leave. */
    public void killAndStart() throws Exception {
        kill();
        launch();
    }

    @Override
    public void close() {
        if (process != null) {
            process.destroyForcibly();
        }
    }
}
