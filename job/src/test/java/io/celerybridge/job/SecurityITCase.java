package io.celerybridge.job;

import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.LocalValkey;
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
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The brokers as production would run them. Valkey: TLS only (certificates generated for the
 * test with openssl), the default user off, and an ACL user with a password read from a file.
 * Pulsar: a standalone of the test's own with token authentication on (a secret key made at test
 * time, HS256 tokens), the job's token read from a file. The job runs against each end to end;
 * missing or wrong credentials stop it at start-up with the reason, and no secret appears in a
 * message.
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
                    TestEvents.publish(producer, run, n, 0);
                    QueuedTasks.tally(QueuedTasks.await(reader, queue, n, Duration.ofSeconds(120)), run, n).assertExactlyOnce();
                } finally {
                    job.cancel().get();
                }
            }
        }
    }

    @Test
    void theJobReadsFromAPulsarBrokerWithTokenAuthenticationAndNeedsItsToken() throws Exception {
        // A secret key made now, and HS256 tokens signed with it: the broker's and the job's.
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        Path keyFile = tmp.resolve("pulsar-secret.key");
        Files.write(keyFile, key);
        String adminToken = hs256Token("admin", key);
        String jobToken = hs256Token("celery-bridge", key);
        Path tokenFile = tmp.resolve("pulsar-token");
        Files.writeString(tokenFile, jobToken + "\n");
        Path extra = tmp.resolve("auth.conf");
        Files.writeString(extra, String.join("\n",
                "authenticationEnabled=true",
                "authenticationProviders=org.apache.pulsar.broker.authentication.AuthenticationProviderToken",
                "tokenSecretKey=file://" + keyFile.toAbsolutePath(),
                "superUserRoles=admin,celery-bridge",
                "brokerClientAuthenticationPlugin=org.apache.pulsar.client.impl.auth.AuthenticationToken",
                "brokerClientAuthenticationParameters=token:" + adminToken, ""));
        try (LocalPulsar broker = LocalPulsar.start(6770, 8200, extra, adminToken)) {
            String run = UUID.randomUUID().toString();
            String topic = "persistent://public/default/token-" + run;
            String queue = "token-" + run;
            org.apache.pulsar.client.api.Authentication admin =
                    org.apache.pulsar.client.api.AuthenticationFactory.token(adminToken);
            try (PulsarAdmin pulsarAdmin = PulsarAdmin.builder().serviceHttpUrl(broker.adminUrl()).authentication(admin).build()) {
                pulsarAdmin.topics().createPartitionedTopic(topic, 2);
            }
            List<String> common = List.of("pulsar.service_url=" + broker.serviceUrl(), "pulsar.admin_url=" + broker.adminUrl(),
                    "topic=" + topic, "pulsar.subscription=token", "channel=" + queue);

            assertThatThrownBy(() -> CeleryBridgeJob.forProduction(TestConfigs.forTestServers(common.toArray(new String[0]))))
                    .as("without a token the broker refuses the job at start-up").hasMessageContaining("401");

            List<String> withToken = new java.util.ArrayList<>(common);
            withToken.add("pulsar.auth_token_file=" + tokenFile);
            BridgeConfig config = TestConfigs.forTestServers(withToken.toArray(new String[0]));
            int n = 1_000;
            try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(broker.serviceUrl()).authentication(admin).build();
                    Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).create();
                    CeleryBackendReader reader = new CeleryBackendReader(TestServers.valkeyUri())) {
                StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
                CeleryBridgeJob.forProduction(config).build(env);
                JobClient job = env.executeAsync("token-" + run);
                try {
                    TestEvents.publish(producer, run, n, 0);
                    QueuedTasks.tally(QueuedTasks.await(reader, queue, n, Duration.ofSeconds(120)), run, n).assertExactlyOnce();
                } finally {
                    job.cancel().get();
                    QueuedTasks.delete(reader, queue);
                }
            }
        }
    }

    @Test
    void theJobRunsAgainstATlsOnlyPulsarAndChecksTheBrokersCertificateAndName() throws Exception {
        Path certs = Files.createDirectories(tmp.resolve("pulsar-certs"));
        generateCertificates(certs); // for IP 127.0.0.1 only
        try (LocalPulsar broker = LocalPulsar.startTlsOnly(6780, 8210, certs.resolve("server.crt"), certs.resolve("server.key"),
                certs.resolve("ca.crt"), Files.createDirectories(tmp.resolve("pulsar-tls")))) {
            String run = UUID.randomUUID().toString();
            String topic = "persistent://public/default/tls-" + run;
            String queue = "tls-" + run;
            String trust = "pulsar.tls_trust_certs_file=" + certs.resolve("ca.crt");
            List<String> common = List.of("pulsar.service_url=" + broker.serviceUrl(), "pulsar.admin_url=" + broker.adminUrl(),
                    "topic=" + topic, "pulsar.subscription=tls", "channel=" + queue);

            assertThatThrownBy(() -> CeleryBridgeJob.forProduction(TestConfigs.forTestServers(common.toArray(new String[0]))))
                    .as("an untrusted certificate stops the job at start-up").hasMessageContaining(broker.adminUrl());
            // The certificate names 127.0.0.1, not localhost: hostname verification (on by default) refuses it.
            List<String> byName = List.of("pulsar.service_url=pulsar+ssl://localhost:6780", "pulsar.admin_url=https://localhost:8210",
                    "topic=" + topic, "pulsar.subscription=tls", "channel=" + queue, trust);
            assertThatThrownBy(() -> CeleryBridgeJob.forProduction(TestConfigs.forTestServers(byName.toArray(new String[0]))))
                    .as("a certificate for another name is refused").hasMessageContaining("https://localhost:8210");
            List<String> byNameUnverified = new java.util.ArrayList<>(byName);
            byNameUnverified.add("pulsar.tls_hostname_verification=false");
            CeleryBridgeJob.forProduction(TestConfigs.forTestServers(byNameUnverified.toArray(new String[0])));

            List<String> trusted = new java.util.ArrayList<>(common);
            trusted.add(trust);
            BridgeConfig config = TestConfigs.forTestServers(trusted.toArray(new String[0]));
            int n = 200;
            try (PulsarClient pulsar = CeleryBridgeJob.pulsarConnection(config).client();
                    Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).create();
                    org.apache.pulsar.client.api.Consumer<byte[]> dlq = pulsar.newConsumer(Schema.BYTES).topic(config.dlqTopic())
                            .subscriptionName("check").subscriptionInitialPosition(
                                    org.apache.pulsar.client.api.SubscriptionInitialPosition.Earliest).subscribe();
                    CeleryBackendReader reader = new CeleryBackendReader(TestServers.valkeyUri())) {
                StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
                CeleryBridgeJob.forProduction(config).build(env);
                JobClient job = env.executeAsync("tls-" + run);
                try {
                    TestEvents.publish(producer, run, n, 0);
                    for (int i = 0; i < 3; i++) {
                        producer.send(("{\"id\": \"" + run + "-bad-" + i + "\", broken").getBytes(StandardCharsets.UTF_8));
                    }
                    QueuedTasks.tally(QueuedTasks.await(reader, queue, n, Duration.ofSeconds(120)), run, n).assertExactlyOnce();
                    for (int i = 0; i < 3; i++) {
                        assertThat(dlq.receive(60, java.util.concurrent.TimeUnit.SECONDS)).as("dead letter %d over TLS", i).isNotNull();
                    }
                } finally {
                    job.cancel().get();
                    QueuedTasks.delete(reader, queue);
                }
                DlqReplay.Result replay = DlqReplay.replay(config, java.time.Instant.MIN, java.time.Instant.MAX, java.util.Set.of(), false);
                assertThat(replay.replayed).as("the replay tool, over TLS with the job's settings").isEqualTo(3);
                assertThat(replay.failed.get()).isZero();
            }
        }
    }

    /** A JWT as Pulsar's AuthenticationProviderToken checks it: HS256 over the secret key, subject = role. */
    private static String hs256Token(String subject, byte[] key) throws Exception {
        java.util.Base64.Encoder b64 = java.util.Base64.getUrlEncoder().withoutPadding();
        String signed = b64.encodeToString("{\"alg\":\"HS256\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(("{\"sub\":\"" + subject + "\"}").getBytes(StandardCharsets.UTF_8));
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
        return signed + "." + b64.encodeToString(mac.doFinal(signed.getBytes(StandardCharsets.US_ASCII)));
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
