package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.celery.CeleryTaskIds;
import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Different events are never merged with the default settings: events without an id that share
 * a message key (an entity), an integer and a string id of the same digits, a string id shaped
 * like a batch task's key, and an id of 100,000 characters each become their own task; two
 * messages with the same id are still one event.
 */
class EventIdentityITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void differentEventsBecomeDifferentTasksAndOneIdStaysOneEvent() throws Exception {
        String run = UUID.randomUUID().toString();
        String topic = "persistent://public/default/identity-it-" + run;
        String queue = "identity-it-" + run; // no worker consumes it: the test reads the envelopes
        String longId = run + "-" + "x".repeat(100_000);
        String number = Long.toString(Math.abs(run.hashCode()) + 1L);

        List<String[]> messages = new ArrayList<>(); // {key or null, payload}
        messages.add(new String[] {"customer-7", "{\"m\": \"same-key-1\", \"v\": 1}"});
        messages.add(new String[] {"customer-7", "{\"m\": \"same-key-2\", \"v\": 2}"});
        messages.add(new String[] {null, "{\"id\": " + number + ", \"m\": \"integer\"}"});
        messages.add(new String[] {null, "{\"id\": \"" + number + "\", \"m\": \"string\"}"});
        messages.add(new String[] {null, "{\"id\": \"~batch:" + run + "\", \"m\": \"batch-shaped\"}"});
        messages.add(new String[] {null, "{\"id\": \"" + longId + "\", \"m\": \"long\"}"});
        messages.add(new String[] {null, "{\"id\": \"" + run + "-same\", \"m\": \"same-id-1\"}"});
        messages.add(new String[] {null, "{\"id\": \"" + run + "-same\", \"m\": \"same-id-2\"}"});

        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = pulsar.newProducer(Schema.BYTES).topic(topic).create();
                CeleryBackendReader valkey = new CeleryBackendReader(TestServers.valkeyUri())) {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            CeleryBridgeJob.forProduction(TestConfigs.forTestServers("topic=" + topic, "pulsar.subscription=identity-it",
                    "channel=" + queue, "restart.strategy=none")).build(env);
            JobClient job = env.executeAsync("identity-it");
            try {
                for (String[] m : messages) {
                    var out = producer.newMessage().value(m[1].getBytes(StandardCharsets.UTF_8));
                    if (m[0] != null) {
                        out.key(m[0]);
                    }
                    out.send();
                }
                QueuedTasks.awaitDepth(valkey, queue, 7, Duration.ofSeconds(90), "for the seven distinct events");
                Settled.consumed(topic, "identity-it", Duration.ofSeconds(90)); // all eight read: an eighth task would be queued by now

                Map<String, String> taskIdByMarker = new HashMap<>();
                for (String raw : valkey.redis().lrange(queue, 0, -1)) {
                    JsonNode envelope = JSON.readTree(raw);
                    JsonNode event = JSON.readTree(Base64.getDecoder().decode(envelope.get("body").asText())).get(1).get("event");
                    assertThat(taskIdByMarker.put(event.get("m").asText(), envelope.get("headers").get("id").asText()))
                            .as("one task per marker").isNull();
                }
                assertThat(taskIdByMarker.keySet()).as("each different event is its own task")
                        .contains("same-key-1", "same-key-2", "integer", "string", "batch-shaped", "long");
                assertThat(taskIdByMarker.keySet().stream().filter(m -> m.startsWith("same-id-"))).as("one id, one event").hasSize(1);
                assertThat(taskIdByMarker).hasSize(7);
                assertThat(taskIdByMarker.get("string")).isEqualTo(CeleryTaskIds.forKey(number));
                assertThat(taskIdByMarker.get("integer")).isEqualTo(CeleryTaskIds.forKey("~int:" + number));

                String longMark = CeleryEnvelopeCodec.builder().build().dedupKey(longId);
                assertThat(longMark).as("a mark has a fixed size whatever the id").hasSize(CeleryEnvelopeCodec.DEFAULT_DEDUP_KEY_PREFIX.length() + 64);
                assertThat(valkey.redis().exists(longMark)).as("the long id's mark").isOne();
                new ReliabilityReport("Event identity (EventIdentityITCase): default config; two messages share an id, the rest are different events")
                        .row("no id, same message key; integer vs string id; id shaped like a batch key; id of 100,000 characters; "
                                + "one id sent twice", "-", messages.size(), taskIdByMarker.size(), 0, 7 - taskIdByMarker.size(), 0)
                        .write("identity.md");
            } finally {
                job.cancel().get();
                QueuedTasks.delete(valkey, queue);
            }
        }
    }
}
