package io.celerybridge.job;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A valkey-server of a test's own (persistence, TLS, ACL users), on a free port, its files in a
 * directory of the test's; fails with a clear message when valkey-server is not installed.
 */
final class LocalValkey implements AutoCloseable {
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
    static LocalValkey start(Path dir, String... options) throws Exception {
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

    int port() {
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
    void restart() throws Exception {
        process.destroy();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("valkey-server stopped").isTrue();
        Thread.sleep(3_000);
        launch();
    }

    @Override
    public void close() {
        if (process != null) {
            process.destroyForcibly();
        }
    }
}
