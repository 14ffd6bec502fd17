package io.celerybridge.job;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** A Pulsar standalone of a test's own on fixed ports, started, restarted (data kept) and stopped with dev/pulsar.sh. */
final class LocalPulsar implements AutoCloseable {
    private static final Path SCRIPT = Path.of("..", "dev", "pulsar.sh");
    private final int port;
    private final int httpPort;
    private final Path extraConf;
    private final String adminToken;
    private final Path tlsCa;

    private LocalPulsar(int port, int httpPort, Path extraConf, String adminToken, Path tlsCa) {
        this.port = port;
        this.httpPort = httpPort;
        this.extraConf = extraConf;
        this.adminToken = adminToken;
        this.tlsCa = tlsCa;
    }

    static LocalPulsar start(int port, int httpPort) throws Exception {
        return start(port, httpPort, null, null);
    }

    /**
     * @param extraConf broker settings appended to standalone.conf (null for none)
     * @param adminToken the token the readiness probe presents when those settings turn authentication on
     */
    static LocalPulsar start(int port, int httpPort, Path extraConf, String adminToken) throws Exception {
        LocalPulsar p = new LocalPulsar(port, httpPort, extraConf, adminToken, null);
        p.script("start");
        return p;
    }

    /**
     * A broker that speaks TLS only: its plain ports are off, {@code port} and {@code httpPort}
     * are its TLS ports, with this certificate and key (PEM), signed by {@code ca}.
     */
    static LocalPulsar startTlsOnly(int port, int httpPort, Path certificate, Path key, Path ca, Path dir) throws Exception {
        Path conf = dir.resolve("tls.conf");
        java.nio.file.Files.writeString(conf, String.join("\n",
                "brokerServicePort=", "webServicePort=",
                "brokerServicePortTls=" + port, "webServicePortTls=" + httpPort,
                "tlsCertificateFilePath=" + certificate.toAbsolutePath(), "tlsKeyFilePath=" + key.toAbsolutePath(),
                "tlsTrustCertsFilePath=" + ca.toAbsolutePath(),
                "brokerClientTlsEnabled=true", "brokerClientTrustCertsFilePath=" + ca.toAbsolutePath(), ""));
        LocalPulsar p = new LocalPulsar(port, httpPort, conf, null, ca);
        p.script("start");
        return p;
    }

    String serviceUrl() {
        return (tlsCa != null ? "pulsar+ssl" : "pulsar") + "://127.0.0.1:" + port;
    }

    String adminUrl() {
        return (tlsCa != null ? "https" : "http") + "://127.0.0.1:" + httpPort;
    }

    /** Stops the broker (its process is gone) and starts a new one on the same data. */
    void restart() throws Exception {
        long before = pid();
        script("restart");
        assertThat(ProcessHandle.of(before).map(ProcessHandle::isAlive).orElse(false)).as("the old broker process " + before).isFalse();
        assertThat(pid()).as("a new broker process").isNotEqualTo(before);
    }

    /** The broker's process id. */
    long pid() throws Exception {
        String[] lines = script("pid").strip().split("\n");
        return Long.parseLong(lines[lines.length - 1].strip());
    }

    @Override
    public void close() throws Exception {
        script("stop");
    }

    private String script(String command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(List.of("bash", SCRIPT.toString(), command)).redirectErrorStream(true);
        pb.environment().put("PULSAR_PORT", Integer.toString(port));
        pb.environment().put("PULSAR_HTTP_PORT", Integer.toString(httpPort));
        if (extraConf != null) {
            pb.environment().put("PULSAR_EXTRA_CONF", extraConf.toAbsolutePath().toString());
        }
        if (adminToken != null) {
            pb.environment().put("PULSAR_ADMIN_TOKEN", adminToken);
        }
        if (tlsCa != null) {
            pb.environment().put("PULSAR_PROBE_CACERT", tlsCa.toAbsolutePath().toString());
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            fail("dev/pulsar.sh " + command + " (port " + port + ") failed:\n" + out);
        }
        return out;
    }
}
