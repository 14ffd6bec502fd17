package io.celerybridge.connectors.pulsar;

import io.celerybridge.connectors.testutils.TestServers;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Start positions and raw records against a real broker. */
class PulsarRecordSourceITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1).build());

    @Test
    void startPositions() throws Exception {
        String topic = "persistent://public/default/start-it-" + UUID.randomUUID();
        List<MessageId> ids = new ArrayList<>();
        Instant sixth;
        try (PulsarClient client = client();
                Producer<byte[]> producer = client.newProducer(Schema.BYTES).topic(topic).enableBatching(false).create()) {
            Instant t6 = null;
            for (int i = 1; i <= 10; i++) {
                if (i == 6) {
                    Thread.sleep(50);
                    t6 = Instant.now();
                    Thread.sleep(50);
                }
                ids.add(producer.newMessage().key("k" + i).property("n", Integer.toString(i))
                        .value(("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)).send());
            }
            sixth = t6;
            // An existing subscription that has consumed (acknowledged) 1..4.
            try (Consumer<byte[]> c = client.newConsumer(Schema.BYTES).topic(topic).subscriptionName("existing")
                    .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                    .acknowledgmentGroupTime(0, TimeUnit.MILLISECONDS).subscribe()) {
                Message<byte[]> m = null;
                for (int i = 0; i < 4; i++) {
                    m = c.receive(10, TimeUnit.SECONDS);
                }
                c.acknowledgeCumulative(m);
            }
        }

        assertThat(read(topic, "new-earliest", StartPosition.earliest())).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
        assertThat(read(topic, "existing", StartPosition.subscription())).containsExactly(5, 6, 7, 8, 9, 10);
        assertThat(read(topic, "existing", StartPosition.earliest())).as("earliest resets an existing subscription")
                .containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
        assertThat(read(topic, "by-time", StartPosition.publishTime(sixth))).containsExactly(6, 7, 8, 9, 10);
        assertThat(readLatestThenPublish(topic)).containsExactly(11, 12, 13);
    }

    @Test
    void recordsKeepBytesKeyPropertiesAndIds() throws Exception {
        String topic = "persistent://public/default/record-it-" + UUID.randomUUID();
        byte[] notUtf8 = {(byte) 0xff, 0x00, (byte) 0xfe};
        MessageId id;
        try (PulsarClient client = client();
                Producer<byte[]> producer = client.newProducer(Schema.BYTES).topic(topic).create()) {
            id = producer.newMessage().key("the-key").property("p", "v").eventTime(1234L).value(notUtf8).send();
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        List<PulsarRecord> records = env.fromSource(builder(topic, "rec").startPosition(StartPosition.earliest()).buildBounded(),
                WatermarkStrategy.noWatermarks(), "pulsar").executeAndCollect(1);
        PulsarRecord r = records.get(0);
        assertThat(r.getPayload()).isEqualTo(notUtf8);
        assertThat(r.getKey()).isEqualTo("the-key");
        assertThat(r.getProperties()).containsEntry("p", "v");
        assertThat(r.getEventTime()).isEqualTo(1234L);
        assertThat(r.getMessageId()).isEqualTo(id.toString());
        assertThat(r.getTopic()).isEqualTo(topic);
        assertThat(r.getPublishTime()).isPositive();
    }

    @Test
    void latestDoesNotSkipWhatAPartitionDiscoveredLaterReceivedBeforeItsDiscovery() throws Exception {
        String topic = "persistent://public/default/latest-grow-" + UUID.randomUUID();
        try (org.apache.pulsar.client.admin.PulsarAdmin admin = PulsarConnection.of(TestServers.pulsarServiceUrl(),
                        TestServers.pulsarAdminUrl()).admin();
                PulsarClient client = client()) {
            admin.topics().createPartitionedTopic(topic, 1);
            try (Producer<byte[]> before = client.newProducer(Schema.BYTES).topic(topic).create()) {
                before.send("{\"n\":1}".getBytes(StandardCharsets.UTF_8)); // before the job: not read
            }
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.setParallelism(1);
            BatchSafePulsarSource<PulsarRecord> source = builder(topic, "latest-grow").startPosition(StartPosition.latest())
                    .partitionDiscoveryInterval(java.time.Duration.ofSeconds(3)).build();
            org.apache.flink.util.CloseableIterator<Integer> read = env.fromSource(source, WatermarkStrategy.noWatermarks(), "pulsar")
                    .map(r -> Integer.parseInt(new String(r.getPayload(), StandardCharsets.UTF_8).replaceAll("\\D", "")))
                    .collectAsync();
            org.apache.flink.core.execution.JobClient job = env.executeAsync("latest-grow");
            try {
                CompletableFuture<List<Integer>> out = CompletableFuture.supplyAsync(() -> {
                    List<Integer> got = new ArrayList<>();
                    while (got.size() < 3 && read.hasNext()) {
                        got.add(read.next());
                    }
                    return got;
                });
                Thread.sleep(5_000); // the job is reading partition 0
                try (Producer<byte[]> p0 = client.newProducer(Schema.BYTES).topic(topic + "-partition-0").create()) {
                    p0.send("{\"n\":2}".getBytes(StandardCharsets.UTF_8));
                }
                // A new partition gets messages before the source discovers it (every 3 s).
                admin.topics().updatePartitionedTopic(topic, 2);
                try (Producer<byte[]> p1 = client.newProducer(Schema.BYTES).topic(topic + "-partition-1").create()) {
                    p1.send("{\"n\":3}".getBytes(StandardCharsets.UTF_8));
                    p1.send("{\"n\":4}".getBytes(StandardCharsets.UTF_8));
                }
                assertThat(out.get(60, TimeUnit.SECONDS)).containsExactlyInAnyOrder(2, 3, 4);
            } finally {
                job.cancel().get(30, TimeUnit.SECONDS);
                read.close();
            }
        }
    }

    private static List<Integer> read(String topic, String subscription, StartPosition start) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        List<Integer> out = new ArrayList<>();
        env.fromSource(builder(topic, subscription).startPosition(start).buildBounded(), WatermarkStrategy.noWatermarks(), "pulsar")
                .map(r -> Integer.parseInt(new String(r.getPayload(), StandardCharsets.UTF_8).replaceAll("\\D", "")))
                .executeAndCollect().forEachRemaining(out::add);
        return out;
    }

    private static List<Integer> readLatestThenPublish(String topic) throws Exception {
        CompletableFuture<Void> publisher = CompletableFuture.runAsync(() -> {
            try (PulsarClient client = client();
                    Producer<byte[]> producer = client.newProducer(Schema.BYTES).topic(topic).create()) {
                Thread.sleep(4_000); // the job positions its subscription at the latest message first
                for (int i = 11; i <= 13; i++) {
                    producer.send(("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8));
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        BatchSafePulsarSource<PulsarRecord> source = builder(topic, "latest").startPosition(StartPosition.latest()).build();
        List<Integer> out = env.fromSource(source, WatermarkStrategy.noWatermarks(), "pulsar")
                .map(r -> Integer.parseInt(new String(r.getPayload(), StandardCharsets.UTF_8).replaceAll("\\D", "")))
                .executeAndCollect(3);
        publisher.get();
        return out;
    }

    private static PulsarRecordSourceBuilder builder(String topic, String subscription) {
        return new PulsarRecordSourceBuilder()
                .connection(PulsarConnection.of(TestServers.pulsarServiceUrl(), TestServers.pulsarAdminUrl()))
                .topics(List.of(topic))
                .subscription(subscription);
    }

    private static PulsarClient client() throws Exception {
        return PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
    }
}
