package io.celerybridge.job;

import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.job.config.BridgeOptions;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Dead letters survive on a broker with Pulsar's stock settings (inactive topics deleted a
 * minute after their last producer leaves, retention 0): the job stopped, a ledger rollover, and
 * a control topic without a subscription deleted meanwhile (proof the broker does delete), then
 * every DLQ record is still there, replayed once by the replay tool, and acknowledged.
 */
class DeadLetterRetentionITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final int BAD = 25;
    private static final long DELETION_DEADLINE_MS = 200_000; // the broker checks every 60 s, after 60 s of inactivity

    @Test
    void deadLettersOutliveTheJobOnAStockBrokerAndAreReplayedOnce() throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = "persistent://public/default/retention-it-" + run;
        String dlqTopic = topic + "-dlq";
        String control = topic + "-control";
        String[] sets = {"topic=" + topic, "pulsar.subscription=retention-it", "restart.strategy=none"};
        BridgeConfig config = TestConfigs.forTestServers(sets);

        try (PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl(TestServers.pulsarAdminUrl()).build();
                PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build()) {
            // The control: what a DLQ topic was before, records and no subscription.
            try (Producer<byte[]> p = pulsar.newProducer(Schema.BYTES).topic(control).create()) {
                for (int i = 0; i < BAD; i++) {
                    p.send(("record " + i).getBytes(StandardCharsets.UTF_8));
                }
            }

            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            CeleryBridgeJob.forProduction(config).build(env);
            JobClient job = env.executeAsync("retention-it");
            try (Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).create()) {
                for (int i = 0; i < BAD; i++) {
                    producer.send(("{\"id\": \"" + run + "-" + i + "\", broken").getBytes(StandardCharsets.UTF_8));
                }
                long deadline = System.currentTimeMillis() + 90_000;
                while (readable(pulsar, dlqTopic) < BAD) {
                    if (System.currentTimeMillis() > deadline) {
                        fail("the job dead-lettered only " + readable(pulsar, dlqTopic) + " of " + BAD + " records within 90 s");
                    }
                    Thread.sleep(500);
                }
            } finally {
                job.cancel().get();
            }
            admin.topics().unload(dlqTopic); // closes its ledger: the next load rolls over to a new one

            long deadline = System.currentTimeMillis() + DELETION_DEADLINE_MS;
            while (admin.topics().getList("public/default").contains(control)) {
                if (System.currentTimeMillis() > deadline) {
                    fail("the control topic (no subscription, producer gone) was not deleted within " + DELETION_DEADLINE_MS / 1000
                            + " s: is this broker running with brokerDeleteInactiveTopicsEnabled=false? The tests need Pulsar's stock settings.");
                }
                Thread.sleep(2_000);
            }
            Thread.sleep(5_000); // the same sweep would have taken the DLQ topic with it
            assertThat(admin.topics().getList("public/default")).as("the DLQ topic outlived the job").contains(dlqTopic);
            assertThat(readable(pulsar, dlqTopic)).as("every record kept").isEqualTo(BAD);
            assertThat(backlog(admin, dlqTopic, config.get(BridgeOptions.DLQ_SUBSCRIPTION))).as("held by the job's subscription").isPositive();

            try (Consumer<byte[]> main = pulsar.newConsumer(Schema.BYTES).topic(topic).subscriptionName("check")
                    .subscriptionInitialPosition(SubscriptionInitialPosition.Latest).subscribe()) {
                java.util.List<String> settings = new java.util.ArrayList<>(TestConfigs.testServerSettings());
                settings.addAll(java.util.List.of(sets));
                long held = backlog(admin, dlqTopic, config.get(BridgeOptions.DLQ_SUBSCRIPTION));
                assertThat(held).as("backlog (entries) before any run").isPositive();
                String dry = runReplay(settings, "--dry-run");
                assertThat(dry).contains("would re-publish " + BAD);
                assertThat(backlog(admin, dlqTopic, config.get(BridgeOptions.DLQ_SUBSCRIPTION))).as("a dry run acknowledges nothing").isEqualTo(held);

                String out = runReplay(settings);
                assertThat(out).contains("re-published " + BAD);
                Set<String> replayed = new HashSet<>();
                Message<byte[]> m;
                while ((m = main.receive(10, TimeUnit.SECONDS)) != null) {
                    assertThat(m.getProperty("celery-bridge.replay-of")).as("the identity of its first life").isNotBlank();
                    replayed.add(new String(m.getData(), StandardCharsets.UTF_8));
                }
                assertThat(replayed).as("every dead letter replayed").hasSize(BAD);
                assertThat(backlog(admin, dlqTopic, config.get(BridgeOptions.DLQ_SUBSCRIPTION))).as("acknowledged once replayed").isZero();
                assertThat(runReplay(settings)).as("a second run finds nothing").contains("re-published 0");
                new ReliabilityReport("Dead letters on a broker with stock settings (DeadLetterRetentionITCase)")
                        .row("job stopped, DLQ ledger rolled over, broker's inactive-topic sweep ran (control topic deleted); "
                                + "then replayed", "MALFORMED_JSON", BAD, 0, BAD, BAD - replayed.size(), 0)
                        .write("dlq-retention.md");
            }
        }
    }

    @Test
    void refusesToStartWhereTheBrokerWouldStillDropDeadLetters() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String ttl = "public/ttl-" + run;
        String expiring = "public/expiring-" + run;
        try (PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl(TestServers.pulsarAdminUrl()).build()) {
            admin.namespaces().createNamespace(ttl);
            admin.namespaces().setNamespaceMessageTTL(ttl, 600);
            admin.namespaces().createNamespace(expiring);
            admin.namespaces().setSubscriptionExpirationTime(expiring, 30);
            try {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> CeleryBridgeJob.forProduction(TestConfigs.forTestServers(
                                "topic=persistent://public/default/ttl-" + run, "dlq_topic=persistent://" + ttl + "/dlq")))
                        .isInstanceOf(io.celerybridge.job.config.ConfigException.class)
                        .hasMessageContaining("dlq_topic").hasMessageContaining("message TTL of 600 s");
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> CeleryBridgeJob.forProduction(TestConfigs.forTestServers(
                                "topic=persistent://public/default/ttl-" + run, "dlq_topic=persistent://" + expiring + "/dlq")))
                        .isInstanceOf(io.celerybridge.job.config.ConfigException.class)
                        .hasMessageContaining("expire after 30 min").hasMessageContaining("celery-bridge-dlq");
            } finally {
                for (String ns : List.of(ttl, expiring)) {
                    for (String t : admin.topics().getList(ns)) {
                        admin.topics().delete(t, true);
                    }
                    admin.namespaces().deleteNamespace(ns);
                }
            }
        }
    }

    /** Distinct records readable on the topic, without a durable subscription (a reader leaves none). */
    private static int readable(PulsarClient pulsar, String topic) throws Exception {
        Set<String> seen = new HashSet<>();
        try (org.apache.pulsar.client.api.Reader<byte[]> r = pulsar.newReader(Schema.BYTES).topic(topic)
                .startMessageId(org.apache.pulsar.client.api.MessageId.earliest).create()) {
            while (r.hasMessageAvailable()) {
                Message<byte[]> m = r.readNext(10, TimeUnit.SECONDS);
                if (m == null) {
                    break;
                }
                seen.add(new String(m.getData(), StandardCharsets.UTF_8));
            }
        } catch (org.apache.pulsar.client.api.PulsarClientException.TopicDoesNotExistException e) {
            return 0;
        }
        return seen.size();
    }

    private static long backlog(PulsarAdmin admin, String topic, String subscription) throws Exception {
        try {
            var sub = admin.topics().getStats(topic).getSubscriptions().get(subscription);
            return sub == null ? -1 : sub.getMsgBacklog();
        } catch (org.apache.pulsar.client.admin.PulsarAdminException.NotFoundException e) {
            return -1;
        }
    }

    /** Runs the replay tool's main as a user would, with the job's settings, and returns what it printed. */
    private static String runReplay(java.util.List<String> settings, String... flags) throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>();
        for (String s : settings) {
            args.add("--set");
            args.add(s);
        }
        args.addAll(java.util.List.of(flags));
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            DlqReplay.main(args.toArray(new String[0]));
        } finally {
            System.setOut(original);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        original.print(out);
        return out;
    }

}
