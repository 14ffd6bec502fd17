package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.celery.CeleryTaskIds;
import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.job.internal.ToDeadLetter;

import org.apache.flink.api.common.JobStatus;
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

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nineteen kinds of bad input among good events, through the whole job on a MiniCluster with a
 * real Pulsar, Valkey and Celery worker: each bad record is dead-lettered once with its specific
 * reason and its original bytes, every good event becomes exactly one task, and the job never
 * restarts (restart.strategy=none, still RUNNING at the end). Writes its table to
 * target/reliability/bad-input.md.
 */
class BadInputCorpusITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final int GOOD = 1_000;
    private static final int EACH = 5;

    /** A bad input: what it is, the reason expected, and its payload for the n-th copy (id given). */
    private record Kind(String name, String reason, Function<String, byte[]> payload) {}

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<Kind> kinds() {
        List<Kind> k = new ArrayList<>();
        k.add(new Kind("malformed JSON", "MALFORMED_JSON", id -> utf8("{\"id\": \"" + id + "\", nope}")));
        k.add(new Kind("truncated JSON", "TRUNCATED_JSON", id -> utf8("{\"id\": \"" + id + "\", \"type\": \"order\", \"v\": [1, 2")));
        k.add(new Kind("non-UTF-8 bytes", "INVALID_UTF8", id -> new byte[] {'{', '"', 'i', 'd', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'}));
        k.add(new Kind("empty payload", "EMPTY_PAYLOAD", id -> new byte[0]));
        k.add(new Kind("payload over events.max_payload_bytes", "PAYLOAD_TOO_LARGE",
                id -> utf8("{\"id\": \"" + id + "\", \"type\": \"order\", \"pad\": \"" + "x".repeat(5_000) + "\"}")));
        k.add(new Kind("nesting deeper than events.max_nesting_depth", "NESTING_TOO_DEEP",
                id -> utf8("{\"id\": \"" + id + "\", \"type\": \"order\", \"v\": " + "[".repeat(300) + "]".repeat(300) + "}")));
        k.add(new Kind("wrong field type", "SCHEMA_VIOLATION", id -> utf8("{\"id\": \"" + id + "\", \"type\": \"order\", \"amount\": \"ten\"}")));
        k.add(new Kind("missing id", "MISSING_EVENT_ID", id -> utf8("{\"type\": \"order\", \"ref\": \"" + id + "\"}")));
        k.add(new Kind("id of the wrong type", "INVALID_EVENT_ID", id -> utf8("{\"id\": {\"ref\": \"" + id + "\"}, \"type\": \"order\"}")));
        k.add(new Kind("JSON array instead of an object", "NOT_AN_OBJECT", id -> utf8("[\"" + id + "\", 1]")));
        k.add(new Kind("JSON scalar instead of an object", "NOT_AN_OBJECT", id -> utf8("\"" + id + "\"")));
        k.add(new Kind("number beyond a double", "NUMBER_OUT_OF_RANGE", id -> utf8("{\"id\": \"" + id + "\", \"type\": \"order\", \"amount\": 1e400}")));
        k.add(new Kind("unpaired surrogate", "INVALID_UNICODE", id -> utf8("{\"id\": \"" + id + "\", \"type\": \"order\", \"name\": \"a\\ud800b\"}")));
        k.add(new Kind("duplicate keys", "DUPLICATE_KEY", id -> utf8("{\"id\": \"" + id + "\", \"type\": \"order\", \"type\": \"refund\"}")));
        k.add(new Kind("unknown event type, no route", "NO_ROUTE", id -> utf8("{\"id\": \"" + id + "\", \"type\": \"user.deleted\"}")));
        k.add(new Kind("arguments a worker cannot decode (150 deep)", "UNENCODABLE_TASK",
                id -> utf8("{\"id\": \"" + id + "\", \"type\": \"order\", \"v\": " + "[".repeat(150) + "]".repeat(150) + "}")));
        k.add(new Kind("ETA beyond the visibility timeout (runs twice)", "UNENCODABLE_TASK", id -> utf8("{\"id\": \"" + id + "\", \"type\": \"far\"}")));
        k.add(new Kind("mapped argument missing", "MAPPING_FAILED", id -> utf8("{\"id\": \"" + id + "\", \"type\": \"mapped\"}")));
        k.add(new Kind("unparseable ETA", "INVALID_ETA", id -> utf8("{\"id\": \"" + id + "\", \"type\": \"dated\", \"due\": \"tomorrow\"}")));
        // Decided per event: it used to overflow after the UDF's check and fail the whole batch.
        k.add(new Kind("ETA beyond the year 9999 (1e17 epoch seconds)", "INVALID_ETA",
                id -> utf8("{\"id\": \"" + id + "\", \"type\": \"dated\", \"due\": 1e17}")));
        k.add(new Kind("number of 1,001 digits", "NUMBER_TOO_LONG",
                id -> utf8("{\"id\": \"" + id + "\", \"type\": \"order\", \"amount\": " + "9".repeat(1_001) + "}")));
        return k;
    }

    @Test
    void everyKindOfBadInputIsDeadLetteredWithItsReasonAndTheJobNeverRestarts() throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = "persistent://public/default/corpus-" + run;
        String dlqTopic = topic + "-dlq";
        String queue = "corpus-" + run;
        try (PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl(TestServers.pulsarAdminUrl()).build()) {
            admin.topics().createPartitionedTopic(topic, 2);
        }
        BridgeConfig config = TestConfigs.forTestServers("topic=" + topic, "dlq_topic=" + dlqTopic, "pulsar.subscription=corpus",
                "channel=" + queue, "restart.strategy=none", "events.require_id=true", "events.max_payload_bytes=4096",
                "events.max_nesting_depth=200", "celery.visibility_timeout=1h",
                "udf.schema={\"fields\": {\"amount\": {\"type\": \"number\"}}}",
                "udf.routing={\"routes\": {\"order\": {\"task\": \"celery_bridge.process_event\"},"
                        + " \"edge\": {\"task\": \"celery_bridge.process_event\", \"queue\": \"celery\"},"
                        + " \"far\": {\"task\": \"celery_bridge.process_event\", \"countdown\": \"2h\"},"
                        + " \"mapped\": {\"task\": \"celery_bridge.add\", \"args\": [\"/a\", \"/b\"]},"
                        + " \"dated\": {\"task\": \"celery_bridge.process_event\", \"eta_pointer\": \"/due\"}}}");

        List<Kind> kinds = kinds();
        Map<String, byte[]> badById = new LinkedHashMap<>(); // DLQ records are matched back by their bytes
        Map<String, Kind> kindByPayload = new HashMap<>();
        Set<String> good = new HashSet<>();
        List<String> edgeTaskIds = new ArrayList<>();
        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).create();
                Consumer<byte[]> dlq = pulsar.newConsumer(Schema.BYTES).topic(dlqTopic).subscriptionName("check")
                        .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
                CeleryBackendReader valkey = new CeleryBackendReader(TestServers.valkeyUri())) {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            CeleryBridgeJob.forProduction(config).build(env);
            JobClient job = env.executeAsync("corpus-" + run);
            try {
                int b = 0;
                for (int i = 0; i < GOOD; i++) {
                    String id = run + "-good-" + i;
                    good.add(id);
                    producer.sendAsync(utf8("{\"id\": \"" + id + "\", \"type\": \"order\", \"amount\": " + i + "}"));
                    if (i % 50 == 0 && b < kinds.size() * EACH) {
                        Kind kind = kinds.get(b % kinds.size());
                        byte[] payload = kind.payload().apply(run + "-bad-" + b);
                        badById.put(run + "-bad-" + b, payload);
                        kindByPayload.put(new String(payload, StandardCharsets.ISO_8859_1), kind);
                        producer.newMessage().key("bad-" + b).value(payload).sendAsync();
                        b++;
                    }
                }
                while (b < kinds.size() * EACH) {
                    Kind kind = kinds.get(b % kinds.size());
                    byte[] payload = kind.payload().apply(run + "-bad-" + b);
                    badById.put(run + "-bad-" + b, payload);
                    kindByPayload.put(new String(payload, StandardCharsets.ISO_8859_1), kind);
                    producer.newMessage().key("bad-" + b).value(payload).sendAsync();
                    b++;
                }
                // Valid edge cases that must survive the round trip to a stock worker.
                String[] edge = {"emoji \\ud83d\\ude00", "RTL \u05e9\u05dc\u05d5\u05dd \u0627\u0644\u0639\u0631\u0628\u064a\u0629",
                    "NUL \\u0000 inside", "big 123456789012345678901234567890"};
                for (int i = 0; i < edge.length; i++) {
                    String id = run + "-edge-" + i;
                    edgeTaskIds.add(CeleryTaskIds.forKey(id));
                    producer.sendAsync(utf8("{\"id\": \"" + id + "\", \"type\": \"edge\", \"text\": \"" + edge[i] + "\"}"));
                }
                producer.flush();

                Map<String, Integer> dlqByKind = new LinkedHashMap<>();
                for (int i = 0; i < badById.size(); i++) {
                    Message<byte[]> m = dlq.receive(90, TimeUnit.SECONDS);
                    assertThat(m).as("DLQ record %d of %d", i + 1, badById.size()).isNotNull();
                    Kind kind = kindByPayload.get(new String(m.getData(), StandardCharsets.ISO_8859_1));
                    assertThat(kind).as("a DLQ record carries the original bytes of a bad input").isNotNull();
                    assertThat(m.getProperty(ToDeadLetter.REASON)).as(kind.name()).isEqualTo(kind.reason());
                    assertThat(m.getProperty(ToDeadLetter.ERROR)).isNotBlank();
                    dlqByKind.merge(kind.name(), 1, Integer::sum);
                    dlq.acknowledge(m);
                }
                assertThat(dlq.receive(3, TimeUnit.SECONDS)).as("no DLQ record beyond the bad inputs").isNull();

                Settled.consumed(topic, "corpus", Duration.ofSeconds(90));
                Map<String, Integer> tasksById = QueuedTasks.await(valkey, queue, GOOD, Duration.ofSeconds(90));
                assertThat(tasksById.keySet()).as("every good event became a task").isEqualTo(good);
                assertThat(tasksById.values()).as("none twice").containsOnly(1);
                assertThat(valkey.awaitResults(edgeTaskIds, Duration.ofSeconds(60))).as("edge cases ran on the worker").hasSize(edge.length)
                        .allSatisfy((id, r) -> assertThat(r.get("status").asText()).isEqualTo("SUCCESS"));
                assertThat(job.getJobStatus().get()).as("no restart: the job never failed").isEqualTo(JobStatus.RUNNING);

                ReliabilityReport report = new ReliabilityReport("Bad input (BadInputCorpusITCase): " + kinds.size()
                        + " kinds among " + GOOD + " good events; restart.strategy=none, job still RUNNING");
                for (Kind kind : kinds) {
                    int n = dlqByKind.getOrDefault(kind.name(), 0);
                    report.row(kind.name(), "`" + kind.reason() + "`", EACH, 0, n, EACH - n, Math.max(0, n - EACH));
                }
                report.row("good events", "-", GOOD, tasksById.size(), 0, GOOD - tasksById.size(), 0);
                report.row("valid edge cases (emoji, RTL, NUL, big integer)", "-", edge.length, edge.length, 0, 0, 0);
                report.write("bad-input.md");
                assertThat(dlqByKind.values()).containsOnly(EACH);
                assertThat(dlqByKind).hasSize(kinds.size());
            } finally {
                job.cancel().get();
                for (String l : CeleryEnvelopeCodec.priorityListKeys(queue)) {
                    valkey.redis().del(l);
                }
            }
        }
    }
}
