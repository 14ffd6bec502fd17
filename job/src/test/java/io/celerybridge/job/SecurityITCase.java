package io.celerybridge.job;

import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.connectors.valkey.ValkeyClientProvider;
import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.job.config.ConfigException;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Valkey as a production broker would run it: TLS only (certificates generated for the test with
 * openssl), the default user off, and an ACL user with a password read from a file. The job runs
 * against it end to end; a wrong password or an untrusted certificate stops it at start-up with
 * the reason, and the password appears in no message.
 */
class SecurityITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final String PASSWORD = "s3cret-" + UUID.randomUUID();

    @TempDir
    Path tmp;

    @Test
    void theJobRunsAgainstValkeyOverTlsAsAnAclUserAndRefusesWrongCredentialsAtStartUp() throws Exception {
        Path certs = Files.createDirectories(tmp.resolve("certs"));
        generateCertificates(certs);
        Path passwordFile = tmp.resolve("valkey-password");
        Files.writeString(passwordFile, PASSWORD + "\n");
        try (LocalValkey valkey = LocalValkey.start(tmp.resolve("valkey"), "--port", "0", "--tls-port", "{port}",
                "--tls-cert-file", certs.resolve("server.crt").toString(), "--tls-key-file", certs.resolve("server.key").toString(),
                "--tls-ca-cert-file", certs.resolve("ca.crt").toString(), "--tls-auth-clients", "no",
                "--user", "default", "off", "--user", "bridge", "on", ">" + PASSWORD, "~*", "&*", "+@all")) {
            String run = UUID.randomUUID().toString();
            String topic = "persistent://public/default/secure-" + run;
            String queue = "secure-" + run;
            try (PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl(TestServers.pulsarAdminUrl()).build()) {
                admin.topics().createPartitionedTopic(topic, 2);
            }
            String uri = "rediss://bridge@127.0.0.1:" + valkey.port() + "/0";
            BridgeConfig config = TestConfigs.forTestServers("topic=" + topic, "pulsar.subscription=secure", "channel=" + queue,
                    "valkey.uri=" + uri, "valkey.password_file=" + passwordFile, "valkey.tls_ca_file=" + certs.resolve("ca.crt"));

            assertThatThrownBy(() -> CeleryBridgeJob.forProduction(TestConfigs.forTestServers("topic=" + topic, "valkey.uri=" + uri,
                    "valkey.password=wrong-" + PASSWORD, "valkey.tls_ca_file=" + certs.resolve("ca.crt"))))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("cannot use Valkey at rediss://bridge@127.0.0.1:" + valkey.port())
                    .hasMessageContaining("WRONGPASS")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(PASSWORD));
            assertThatThrownBy(() -> CeleryBridgeJob.forProduction(TestConfigs.forTestServers("topic=" + topic, "valkey.uri=" + uri,
                    "valkey.password_file=" + passwordFile)))
                    .as("the server's certificate is not trusted without valkey.tls_ca_file")
                    .isInstanceOf(ConfigException.class).hasMessageContaining("cannot use Valkey")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(PASSWORD));

            int n = 2_000;
            try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                    Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).create();
                    CeleryBackendReader reader = new CeleryBackendReader(
                            ValkeyClientProvider.forUri(uri, PASSWORD, certs.resolve("ca.crt").toString()).createClient())) {
                StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
                CeleryBridgeJob.forProduction(config).build(env);
                JobClient job = env.executeAsync("secure-" + run);
                try {
                    for (int i = 0; i < n; i++) {
                        producer.sendAsync(("{\"id\": \"" + run + "-" + i + "\"}").getBytes(StandardCharsets.UTF_8));
                    }
                    producer.flush();
                    Map<String, Integer> ids = QueuedTasks.await(reader, queue, n, Duration.ofSeconds(120));
                    assertThat(ids).hasSize(n);
                    assertThat(ids.values()).containsOnly(1);
                } finally {
                    job.cancel().get();
                }
            }
        }
    }

    /** A CA, and a server certificate for 127.0.0.1 signed by it. */
    private static void generateCertificates(Path dir) throws Exception {
        Files.writeString(dir.resolve("san.ext"), "subjectAltName=IP:127.0.0.1\n");
        for (List<String> cmd : List.of(
                List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
                        "-days", "1", "-subj", "/CN=celery-bridge-test-ca"),
                List.of("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                        "-subj", "/CN=127.0.0.1"),
                List.of("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                        "-out", "server.crt", "-days", "1", "-extfile", "san.ext"))) {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).as("%s: %s", cmd, out).isZero();
        }
    }
}
