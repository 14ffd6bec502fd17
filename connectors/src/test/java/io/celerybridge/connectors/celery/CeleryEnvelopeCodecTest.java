package io.celerybridge.connectors.celery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Compares encoded envelopes with the golden ones Celery 5.2.6 produced (test resources). */
class CeleryEnvelopeCodecTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final CeleryEnvelopeCodec codec = new CeleryEnvelopeCodec("gen6086@vm");

    @Test
    void plainAddMatchesCelery() throws Exception {
        assertMatchesFixture("plain_add", CeleryTask.builder()
                .id("bb8701a4-80ae-48b6-8874-f594a072ab1a").name("tasks.add").argsJson("[2, 3]").build());
    }

    @Test
    void kwargsCustomIdHeaderAndIgnoreResultMatchCelery() throws Exception {
        assertMatchesFixture("kwargs_ignore_result", CeleryTask.builder()
                .id("fixed-id-123").name("tasks.add").kwargsJson("{\"x\":1,\"y\":2}")
                .ignoreResult(true).header("x-tenant", "acme").build());
    }

    @Test
    void nonAsciiArgumentsMatchCelery() throws Exception {
        assertMatchesFixture("process_event_nonascii", CeleryTask.builder()
                .id("aef7cd08-228b-46c7-9540-9321170f5740").name("tasks.process_event")
                .argsJson("[{\"user\":\"Zoë\",\"city\":\"東京\",\"amount\":12.5,\"tags\":[\"a\",\"b\"],"
                        + "\"nested\":{\"x\":null,\"ok\":true}}]")
                .build());
    }

    @Test
    void etaAtWholeSecondsMatchesCelery() throws Exception {
        assertMatchesFixture("eta_utc", CeleryTask.builder()
                .id("9acadae2-bcca-4bed-a4e8-8c594a570ad8").name("tasks.add").argsJson("[1, 2]")
                .eta(Instant.parse("2030-01-01T00:00:00Z")).build());
    }

    @Test
    void queueAndPriorityBucketMatchCelery() throws Exception {
        CeleryTask task = CeleryTask.builder()
                .id("6975cee2-aac9-46b6-bd16-95c6b4e645a6").name("tasks.add").argsJson("[1, 1]").priority(5).build();
        assertMatchesFixture("priority_5", task);
        assertThat(codec.listKey(task)).isEqualTo(fixture("priority_5").get("_redis_key").asText());
    }

    @Test
    void priorityBucketsFollowKombuSteps() {
        assertThat(CeleryEnvelopeCodec.priorityBucket(0)).isZero();
        assertThat(CeleryEnvelopeCodec.priorityBucket(2)).isZero();
        assertThat(CeleryEnvelopeCodec.priorityBucket(3)).isEqualTo(3);
        assertThat(CeleryEnvelopeCodec.priorityBucket(8)).isEqualTo(6);
        assertThat(CeleryEnvelopeCodec.priorityBucket(9)).isEqualTo(9);
        CeleryTask t = CeleryTask.builder().id("i").name("n").queue("events").priority(9).build();
        assertThat(codec.listKey(t)).isEqualTo("events\u0006\u00169");
    }

    @Test
    void sameTaskEncodesToSameBytes() throws Exception {
        CeleryTask t = CeleryTask.builder().id("id-1").name("tasks.add").argsJson("[1]").build();
        assertThat(codec.encode(t)).isEqualTo(codec.encode(t));
    }

    @Test
    void argumentsThatAreNotArrayAndObjectAreRefused() {
        assertThatThrownBy(() -> codec.encode(CeleryTask.builder().id("i").name("n").argsJson("{}").build()))
                .isInstanceOf(CeleryEncodingException.class).hasMessageContaining("args must be a JSON array");
        assertThatThrownBy(() -> codec.encode(CeleryTask.builder().id("i").name("n").kwargsJson("[1").build()))
                .isInstanceOf(CeleryEncodingException.class).hasMessageContaining("kwargs is not valid JSON");
    }

    /**
     * Equal to the fixture up to what is per-publish in kombu too: the delivery tag (unique per
     * message) and reply_to (the producer's reply queue). The body is compared decoded.
     */
    private void assertMatchesFixture(String name, CeleryTask task) throws Exception {
        JsonNode expected = fixture(name).get("envelope").deepCopy();
        JsonNode actual = JSON.readTree(codec.encode(task));

        assertThat(decodeBody(actual)).isEqualTo(decodeBody(expected));
        assertThat(actual.get("properties").get("delivery_tag").asText()).isNotBlank();
        for (JsonNode n : new JsonNode[] {expected, actual}) {
            ((ObjectNode) n).remove("body");
            ((ObjectNode) n.get("properties")).remove("delivery_tag");
            ((ObjectNode) n.get("properties")).remove("reply_to");
        }
        assertThat(actual).isEqualTo(expected);
    }

    private static JsonNode decodeBody(JsonNode envelope) throws Exception {
        return JSON.readTree(Base64.getDecoder().decode(envelope.get("body").asText()));
    }

    private static JsonNode fixture(String name) throws Exception {
        try (InputStream in = CeleryEnvelopeCodecTest.class.getResourceAsStream("/celery-fixtures/" + name + ".pretty.json")) {
            assertThat(in).as("fixture %s", name).isNotNull();
            return JSON.readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }
}
