package io.celerybridge.connectors.celery;

import io.celerybridge.connectors.celery.internal.PythonJson;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Byte-level comparison with the envelopes Celery 5.2.6 / kombu 5.2.4 LPUSHed (test resources,
 * copied from shared/celery-fixtures). Each task is described from the fixture's own fields; the
 * only bytes allowed to differ are what kombu makes up per publish: delivery_tag (unique per
 * message) and reply_to (the producer's reply queue).
 */
class CeleryEnvelopeCodecTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"plain_add", "plain_add_2nd_publish", "priority_0", "priority_5", "priority_9",
        "countdown_60", "eta_utc", "expires_300", "queue_events", "kwargs_ignore_result", "chain_link",
        "process_event_nonascii"})
    void encodesEveryFixtureByteForByte(String name) throws Exception {
        JsonNode pretty = resource(name + ".pretty.json");
        String raw = new String(bytes(name + ".raw.json"), StandardCharsets.UTF_8);
        JsonNode expected = JSON.readTree(raw);
        assertThat(new String(PythonJson.write(expected), StandardCharsets.UTF_8))
                .as("our writer reproduces Python's json.dumps bytes").isEqualTo(raw);

        JsonNode headers = expected.get("headers");
        JsonNode properties = expected.get("properties");
        JsonNode body = JSON.readTree(Base64.getDecoder().decode(expected.get("body").asText()));
        CeleryTask.Builder task = CeleryTask.builder()
                .id(headers.get("id").asText())
                .name(headers.get("task").asText())
                .argsJson(body.get(0).toString())
                .kwargsJson(body.get(1).toString())
                .queue(properties.get("delivery_info").get("routing_key").asText())
                .priority(properties.get("priority").asInt())
                .ignoreResult(headers.get("ignore_result").asBoolean());
        if (!body.get(2).get("callbacks").isNull()) {
            task.callbacksJson(body.get(2).get("callbacks").toString());
        }
        Instant now = Instant.parse("2026-11-28T03:17:04.723563Z");
        if (!headers.get("eta").isNull()) {
            task.eta(OffsetDateTime.parse(headers.get("eta").asText()).toInstant());
        }
        if (!headers.get("expires").isNull()) {
            Instant expires = OffsetDateTime.parse(headers.get("expires").asText()).toInstant();
            task.expires(expires);
            now = expires.minusMillis(Long.parseLong(properties.get("expiration").asText()));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = headers.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> h = it.next();
            if (h.getKey().startsWith("x-")) {
                task.header(h.getKey(), h.getValue().asText());
            }
        }
        CeleryEnvelopeCodec codec = CeleryEnvelopeCodec.builder()
                .origin(headers.get("origin").asText())
                .maxEta(Duration.ofDays(3650))
                .clock(Clock.fixed(now, ZoneOffset.UTC))
                .build();
        CeleryTask t = task.build();

        String ours = codec.encode(t);
        JsonNode oursTree = JSON.readTree(ours);
        ObjectNode expectedProps = (ObjectNode) expected.get("properties");
        expectedProps.put("delivery_tag", oursTree.get("properties").get("delivery_tag").asText());
        expectedProps.put("reply_to", oursTree.get("properties").get("reply_to").asText());
        assertThat(ours).isEqualTo(new String(PythonJson.write(expected), StandardCharsets.UTF_8));
        assertThat(codec.listKey(t)).isEqualTo(pretty.get("_redis_key").asText());
    }

    @Test
    void priorityBucketsFollowKombuSteps() {
        assertThat(CeleryEnvelopeCodec.priorityBucket(0)).isZero();
        assertThat(CeleryEnvelopeCodec.priorityBucket(2)).isZero();
        assertThat(CeleryEnvelopeCodec.priorityBucket(3)).isEqualTo(3);
        assertThat(CeleryEnvelopeCodec.priorityBucket(8)).isEqualTo(6);
        assertThat(CeleryEnvelopeCodec.priorityBucket(9)).isEqualTo(9);
    }

    @Test
    void globalKeyPrefixAndDedupKeyGoIntoTheMessage() throws Exception {
        CeleryEnvelopeCodec codec = CeleryEnvelopeCodec.builder().globalKeyPrefix("app1:").dedupKeyPrefix("d:").build();
        CeleryMessage m = codec.toMessage(CeleryTask.builder().id("t-1").idempotencyKey("event-1").name("tasks.add")
                .queue("events").priority(9).build());
        assertThat(m.queueKey()).isEqualTo("app1:events");
        assertThat(m.listKey()).isEqualTo("app1:events\u0006\u00169");
        assertThat(m.dedupKey()).isEqualTo("d:" + IdempotencyKeys.digest("event-1")).hasSize("d:".length() + 64);
        assertThat(codec.dedupKey("x".repeat(100_000))).as("fixed size whatever the id").hasSize("d:".length() + 64);
        assertThat(JSON.readTree(m.envelope()).get("properties").get("delivery_info").get("routing_key").asText())
                .as("kombu routes by the queue name; the prefix is the transport's").isEqualTo("events");
    }

    @Test
    void sameTaskEncodesToSameBytesAndEnvelopeIsAscii() throws Exception {
        CeleryEnvelopeCodec codec = CeleryEnvelopeCodec.builder().build();
        CeleryTask t = CeleryTask.builder().id("id-1").name("tasks.add").argsJson("[\"Zoë \\ud800 😀\"]").build();
        String envelope = codec.encode(t);
        assertThat(envelope).isEqualTo(codec.encode(t));
        assertThat(envelope.chars().allMatch(c -> c < 128)).isTrue();
        JsonNode body = JSON.readTree(Base64.getDecoder().decode(JSON.readTree(envelope).get("body").asText()));
        assertThat(body.get(0).get(0).asText()).isEqualTo("Zoë \ud800 😀");
    }

    @Test
    void refusesWhatAStockWorkerWouldDropOrRunTwice() {
        CeleryEnvelopeCodec codec = CeleryEnvelopeCodec.builder().maxNestingDepth(5).build();
        assertRefused(codec, CeleryTask.builder().id("i").name("n").argsJson("{}"), "args must be a JSON array");
        assertRefused(codec, CeleryTask.builder().id("i").name("n").kwargsJson("[1"), "kwargs is not valid JSON");
        assertRefused(codec, CeleryTask.builder().id("i").name("n").argsJson("[[[[[[1]]]]]]"), "nested 6 deep");
        assertRefused(codec, CeleryTask.builder().id("i").name("bad name!"), "not a valid Celery task name");
        assertRefused(codec, CeleryTask.builder().id("i").name("n").queue("a b"), "not a valid queue name");
        assertRefused(codec, CeleryTask.builder().id("i").name("n").header("tenant", "x"), "must match x-");
        assertRefused(codec, CeleryTask.builder().id("i").name("n").eta(Instant.now().plus(Duration.ofHours(2))),
                "beyond the broker's visibility timeout");
        assertRefused(codec, CeleryTask.builder().id("i").name("n").callbacksJson("[{\"args\":[]}]"), "signature object");
    }

    private static void assertRefused(CeleryEnvelopeCodec codec, CeleryTask.Builder task, String reason) {
        assertThatThrownBy(() -> codec.encode(task.build()))
                .isInstanceOf(CeleryEncodingException.class).hasMessageContaining(reason);
    }

    private static JsonNode resource(String name) throws Exception {
        return JSON.readTree(bytes(name));
    }

    private static byte[] bytes(String name) throws Exception {
        try (InputStream in = CeleryEnvelopeCodecTest.class.getResourceAsStream("/celery-fixtures/" + name)) {
            assertThat(in).as("fixture %s", name).isNotNull();
            return in.readAllBytes();
        }
    }
}
