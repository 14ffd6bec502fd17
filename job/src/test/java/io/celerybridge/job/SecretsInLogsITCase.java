package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryTaskIds;
import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.job.config.BridgeConfig;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import io.lettuce.core.AclSetuserArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the job with a Valkey ACL user and password and a Pulsar token, feeds it a good event and
 * a malformed one carrying a marker, then reads every log line the run wrote: no password, no
 * token, no payload body. The clients log at DEBUG for the run (the other tests keep Pulsar, Netty
 * and lettuce at WARN), so their configuration dumps and connection lines are read too.
 */
class SecretsInLogsITCase {

    /** Logs request headers at DEBUG (a Bearer token); conf/log4j2.properties pins it at INFO. */
    private static final String PULSAR_HTTP = "org.apache.pulsar.shade.org.asynchttpclient";
    /**
     * Threads of the test's own Valkey client: at DEBUG lettuce logs what a command returned, and
     * the test reads Celery results, which hold the payload. Only those lines are not the job's.
     */
    private static final String TEST_READER = "test-reader-";

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @Test
    void noSecretOrPayloadReachesTheLogs() throws Exception {
        String run = UUID.randomUUID().toString().replace("-", "");
        String user = "bridge-" + run.substring(0, 8);
        String password = "pw-" + run;
        String token = "tok-" + run;
        String marker = "PAYLOAD-MARKER-" + run;
        RedisURI base = RedisURI.create(TestServers.valkeyUri());
        RedisClient admin = RedisClient.create(base);
        try (StatefulRedisConnection<String, String> c = admin.connect()) {
            c.sync().aclSetuser(user, AclSetuserArgs.Builder.on().addPassword(password).allKeys().allChannels().allCommands());
        }
        String topic = "persistent://public/default/secrets-it-" + run;
        BridgeConfig config = TestConfigs.forTestServers(
                "topic=" + topic, "pulsar.subscription=secrets-it",
                "valkey.uri=redis://" + user + "@" + base.getHost() + ":" + base.getPort() + "/" + base.getDatabase(),
                "valkey.password=" + password,
                "pulsar.auth_token=" + token);
        assertThat(config.print()).doesNotContain(password, token);
        // The shipped logging config with the clients lowered to DEBUG, as someone debugging would;
        // what it pins (the Pulsar admin client's HTTP headers, with the token) stays pinned.
        assertThat(Files.readString(Path.of("..", "conf", "log4j2.properties")))
                .contains("logger.pulsarHttp.name = " + PULSAR_HTTP, "logger.pulsarHttp.level = INFO");
        Map<String, org.apache.logging.log4j.Level> quiet = Map.of("org.apache.pulsar", org.apache.logging.log4j.Level.WARN,
                "io.netty", org.apache.logging.log4j.Level.WARN, "io.lettuce", org.apache.logging.log4j.Level.WARN);
        org.apache.logging.log4j.core.config.Configurator.setLevel(Map.of(
                "org.apache.pulsar", org.apache.logging.log4j.Level.DEBUG, PULSAR_HTTP, org.apache.logging.log4j.Level.INFO,
                "io.netty", org.apache.logging.log4j.Level.INFO, "io.lettuce", org.apache.logging.log4j.Level.DEBUG));

        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).create();
                var dlq = pulsar.newConsumer(Schema.BYTES).topic(config.dlqTopic()).subscriptionName("check")
                        .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
                CeleryBackendReader backend = new CeleryBackendReader(RedisClient.create(
                        io.lettuce.core.resource.ClientResources.builder()
                                .threadFactoryProvider(pool -> new io.netty.util.concurrent.DefaultThreadFactory(TEST_READER + pool, true))
                                .build(),
                        TestServers.valkeyUri()))) {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            CeleryBridgeJob.forProduction(config).build(env);
            JobClient job = env.executeAsync("secrets-it");
            try {
                String good = run + "-good";
                producer.send(("{\"id\": \"" + good + "\", \"note\": \"" + marker + "\"}").getBytes(StandardCharsets.UTF_8));
                producer.send(("{\"id\": \"" + run + "-bad\", \"note\": \"" + marker + "\", ").getBytes(StandardCharsets.UTF_8));
                assertThat(backend.awaitResults(List.of(CeleryTaskIds.forKey(good)), Duration.ofSeconds(60)))
                        .as("the job works as the ACL user").hasSize(1);
                assertThat(dlq.receive(60, TimeUnit.SECONDS)).as("the malformed event was dead-lettered").isNotNull();
            } finally {
                job.cancel().get();
            }
        } finally {
            org.apache.logging.log4j.core.config.Configurator.setLevel(quiet);
            try (StatefulRedisConnection<String, String> c = admin.connect()) {
                c.sync().aclDeluser(user);
            }
            admin.shutdown();
        }

        List<Path> logs;
        try (Stream<Path> files = Files.walk(Path.of("target"), 2)) {
            logs = files.filter(p -> p.toString().endsWith(".log") || p.toString().endsWith("-output.txt")).toList();
        }
        assertThat(logs).as("log files of this run").isNotEmpty();
        long lines = 0;
        long clientDebugLines = 0;
        for (Path log : logs) {
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                if (line.contains("[" + TEST_READER)) {
                    continue;
                }
                lines++;
                clientDebugLines += line.contains("DEBUG") && (line.contains(" o.a.p.") || line.contains(" i.l.")) ? 1 : 0;
                assertThat(line).as("a line of %s", log).doesNotContain(password, token, marker);
            }
        }
        System.out.printf("log lines read: %d, of which the clients' DEBUG lines: %d%n", lines, clientDebugLines);
        assertThat(lines).as("log lines read").isGreaterThan(100);
        assertThat(clientDebugLines).as("DEBUG lines of the Pulsar and lettuce clients (the level was raised)").isGreaterThan(100);
    }
}
