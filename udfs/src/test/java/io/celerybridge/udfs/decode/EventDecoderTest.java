package io.celerybridge.udfs.decode;

import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.DeadLetterReason;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventDecoderTest {

    private final EventDecoder decoder = new EventDecoder("/id", 1024);

    @Test
    void idFromPointerElseTheMessageItself() throws Exception {
        assertThat(decode("{\"id\":\"e-1\",\"x\":1}", "key").getId()).isEqualTo("e-1");
        assertThat(new EventDecoder("/meta/uid", 1024).decode(bytes("{\"meta\":{\"uid\":\"u\"}}"), null, 0).getId())
                .isEqualTo("u");
        // Without an id, the message's own identity: a shared key (an entity) never merges two events.
        assertThat(decoder.decode(bytes("{\"x\":1}"), "customer-7", 0, "~msg:t@1:0:-1:-1").getId()).isEqualTo("~msg:t@1:0:-1:-1");
        assertThat(decoder.decode(bytes("{\"x\":2}"), "customer-7", 0, "~msg:t@1:1:-1:-1").getId()).isEqualTo("~msg:t@1:1:-1:-1");
        assertThatThrownBy(() -> decode("{\"x\":1}", "customer-7")).as("no message identity to fall back on")
                .isInstanceOfSatisfying(EventDecodingException.class, e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.MISSING_EVENT_ID));
    }

    @Test
    void differentKindsOfIdNeverShareAnIdentity() throws Exception {
        String number = decode("{\"id\":1}", null).getId();
        String text = decode("{\"id\":\"1\"}", null).getId();
        assertThat(number).isNotEqualTo(text).isEqualTo("~int:1");
        assertThat(text).isEqualTo("1");
        assertThat(decode("{\"id\":123456789012345678901234567890}", null).getId()).isEqualTo("~int:123456789012345678901234567890");
        // A string id shaped like another kind's identity is escaped, so it can never collide with it.
        assertThat(decode("{\"id\":\"~int:1\"}", null).getId()).isEqualTo("~~int:1").isNotEqualTo(number);
        assertThat(decode("{\"id\":\"~batch:x\"}", null).getId()).isEqualTo("~~batch:x");
    }

    @Test
    void optInFallbacksKeyOnTheMessageKeyOrThePayload() throws Exception {
        EventDecoder byKey = new EventDecoder("/id", 1024, 64, false, EventDecoder.IdFallback.MESSAGE_KEY);
        assertThat(byKey.decode(bytes("{\"x\":1}"), "order-7", 0, "~msg:t@1:0:-1:-1").getId()).isEqualTo("~key:order-7");
        assertThat(byKey.decode(bytes("{\"id\":\"order-7\"}"), "order-7", 0, null).getId()).isEqualTo("order-7");
        assertThatThrownBy(() -> byKey.decode(bytes("{\"x\":1}"), null, 0, "~msg:t@1:0:-1:-1"))
                .isInstanceOfSatisfying(EventDecodingException.class, e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.MISSING_EVENT_ID));
        EventDecoder byPayload = new EventDecoder("/id", 1024, 64, false, EventDecoder.IdFallback.PAYLOAD_HASH);
        String hashed = byPayload.decode(bytes("{\"x\":1}"), "k", 0, "~msg:t@1:0:-1:-1").getId();
        assertThat(hashed).startsWith("~sha256:").hasSize("~sha256:".length() + 64);
        assertThat(byPayload.decode(bytes("{\"x\":1}"), "other", 0, "~msg:t@2:0:-1:-1").getId()).isEqualTo(hashed);
    }

    @Test
    void keepsPayloadTextAndPublishTime() throws Exception {
        Event e = decoder.decode(bytes("{\"id\":\"a\",\"t\":\"Zoë\"}"), null, 1234L);
        assertThat(e.getPayloadJson()).isEqualTo("{\"id\":\"a\",\"t\":\"Zoë\"}");
        assertThat(e.getPublishTime()).isEqualTo(1234L);
    }

    @Test
    void aReplacementCharacterEncodedProperlyIsText() throws Exception {
        // The lenient decoder's marker for malformed input is also a legal character.
        assertThat(decode("{\"id\":\"a\",\"t\":\"\uFFFD\"}", null).getPayloadJson()).isEqualTo("{\"id\":\"a\",\"t\":\"\uFFFD\"}");
    }

    @Test
    void rejectsWithSpecificReasons() {
        assertReason(new byte[0], DeadLetterReason.EMPTY_PAYLOAD);
        assertReason(bytes("{\"id\":\"" + "x".repeat(1100) + "\"}"), DeadLetterReason.PAYLOAD_TOO_LARGE);
        assertReason(new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'}, DeadLetterReason.INVALID_UTF8);
        assertReason(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xFF, '"', '}'}, DeadLetterReason.INVALID_UTF8);
        assertReason(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'}, DeadLetterReason.INVALID_UTF8);
        assertReason(bytes("{\"id\":"), DeadLetterReason.TRUNCATED_JSON);
        assertReason(bytes("{\"id\": nope}"), DeadLetterReason.MALFORMED_JSON);
        assertReason(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '{', '}'}, DeadLetterReason.MALFORMED_JSON);
        assertReason(bytes("{\"id\":1} {\"id\":2}"), DeadLetterReason.MALFORMED_JSON);
        assertReason(bytes("{\"id\":1,\"id\":2}"), DeadLetterReason.DUPLICATE_KEY);
        assertReason(bytes("[1,2]"), DeadLetterReason.NOT_AN_OBJECT);
        assertReason(bytes("\"text\""), DeadLetterReason.NOT_AN_OBJECT);
        assertReason(bytes("{\"id\":{\"a\":1}}"), DeadLetterReason.INVALID_EVENT_ID);
        assertReason(bytes("{\"id\":\"\"}"), DeadLetterReason.INVALID_EVENT_ID);
    }

    private void assertReason(byte[] payload, DeadLetterReason reason) {
        assertThatThrownBy(() -> decoder.decode(payload, null, 0))
                .isInstanceOfSatisfying(EventDecodingException.class, e -> assertThat(e.reason()).isEqualTo(reason));
    }

    private Event decode(String json, String key) throws EventDecodingException {
        return decoder.decode(bytes(json), key, 0);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void refusesWhatAWorkerCouldNotSurviveWithASpecificReason() throws Exception {
        java.util.Map<String, DeadLetterReason> cases = new java.util.LinkedHashMap<>();
        cases.put("{\"id\": \"a\", \"v\": [1, 2", DeadLetterReason.TRUNCATED_JSON);
        cases.put("{\"id\": \"a\", \"id\": \"b\"}", DeadLetterReason.DUPLICATE_KEY);
        cases.put("{\"id\": \"a\", \"v\": " + "[".repeat(70) + "]".repeat(70) + "}", DeadLetterReason.NESTING_TOO_DEEP);
        cases.put("{\"id\": \"a\", \"v\": 1e400}", DeadLetterReason.NUMBER_OUT_OF_RANGE);
        // Each parser limit its own reason: these used to be reported as NESTING_TOO_DEEP.
        cases.put("{\"id\": \"a\", \"v\": " + "9".repeat(1_001) + "}", DeadLetterReason.NUMBER_TOO_LONG);
        cases.put("{\"id\": \"a\", \"" + "k".repeat(50_001) + "\": 1}", DeadLetterReason.FIELD_NAME_TOO_LONG);
        cases.put("{\"id\": \"a\", \"v\": \"x\\ud800y\"}", DeadLetterReason.INVALID_UNICODE);
        cases.put("{\"id\": \"a\", \"\\udc00\": 1}", DeadLetterReason.INVALID_UNICODE);
        cases.put("{\"v\": 1}", DeadLetterReason.MISSING_EVENT_ID);
        EventDecoder strict = new EventDecoder("/id", 1 << 20, 64, true, EventDecoder.IdFallback.MESSAGE_ID);
        cases.forEach((payload, reason) -> assertThatThrownBy(() -> strict.decode(bytes(payload), "k", 0))
                .as(payload).isInstanceOfSatisfying(EventDecodingException.class, e -> assertThat(e.reason()).isEqualTo(reason)));
        assertThat(strict.decode(bytes("{\"id\": \"a\", \"v\": \"\\ud83d\\ude00 \u05e9\u05dc\u05d5\u05dd \\u0000\", \"n\": 123456789012345678901234567890}"), null, 0)
                .getId()).as("emoji, RTL, NUL and big integers are fine").isEqualTo("a");
    }
}
