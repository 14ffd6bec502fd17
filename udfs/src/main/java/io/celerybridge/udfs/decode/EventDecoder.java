package io.celerybridge.udfs.decode;

import io.celerybridge.connectors.celery.IdempotencyKeys;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.DeadLetterReason;

import org.apache.flink.annotation.PublicEvolving;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decodes a payload strictly: UTF-8, one JSON object, no duplicate keys, nothing after it.
 *
 * <p>Identity (what deduplication and task ids key on, see {@link IdempotencyKeys}): the id at
 * the JSON pointer, a string or an integer (never equal to each other); without one, the
 * {@link IdFallback}: by default the message's own id, so two different messages are never
 * merged and a message read again after a restore keeps its identity.
 */
@PublicEvolving
public final class EventDecoder implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String DEFAULT_ID_POINTER = "/id";
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

    public static final int DEFAULT_MAX_NESTING_DEPTH = 64;

    private final String idPointer;
    private final int maxPayloadBytes;
    private final int maxNestingDepth;
    private final boolean requireId;
    private final IdFallback idFallback;
    private transient ObjectMapper strict;

    /** How an event without an id at the pointer is identified. */
    public enum IdFallback {
        /** The message's own id (topic and position): a re-read keeps it, two publishes are two events. */
        MESSAGE_ID,
        /** The message key: only for producers whose keys name one event, never an entity. */
        MESSAGE_KEY,
        /** A SHA-256 of the payload bytes: identical payloads are one event. */
        PAYLOAD_HASH
    }

    public EventDecoder(String idPointer, int maxPayloadBytes) {
        this(idPointer, maxPayloadBytes, DEFAULT_MAX_NESTING_DEPTH, false, IdFallback.MESSAGE_ID);
    }

    /**
     * @param maxNestingDepth deeper payloads are refused (NESTING_TOO_DEEP): a worker's JSON
     *     decoder recurses per level
     * @param requireId refuse payloads without an id (MISSING_EVENT_ID) instead of falling back
     * @param idFallback the identity of an event without an id
     */
    public EventDecoder(String idPointer, int maxPayloadBytes, int maxNestingDepth, boolean requireId, IdFallback idFallback) {
        JsonPointer.compile(idPointer); // fail at build time on a bad pointer
        this.idPointer = idPointer;
        this.maxPayloadBytes = maxPayloadBytes;
        this.maxNestingDepth = maxNestingDepth;
        this.requireId = requireId;
        this.idFallback = java.util.Objects.requireNonNull(idFallback, "idFallback");
    }

    private ObjectMapper strict() {
        if (strict == null) {
            strict = JsonMapper.builder(com.fasterxml.jackson.core.JsonFactory.builder()
                            .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
                                    .maxNestingDepth(maxNestingDepth).build())
                            .build())
                    .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .build();
        }
        return strict;
    }

    /** For a payload whose message has no identity of its own (see the five-argument form). */
    public Event decode(byte[] payload, String messageKey, long publishTime) throws EventDecodingException {
        return decode(payload, messageKey, publishTime, null);
    }

    /**
     * @param messageIdentity the message's own identity ({@link IdempotencyKeys#ofMessage}, or the
     *     identity a replayed message carries from its first life), for {@link IdFallback#MESSAGE_ID}
     */
    public Event decode(byte[] payload, String messageKey, long publishTime, String messageIdentity)
            throws EventDecodingException {
        if (payload == null || payload.length == 0) {
            throw new EventDecodingException(DeadLetterReason.EMPTY_PAYLOAD, "payload is empty");
        }
        if (payload.length > maxPayloadBytes) {
            throw new EventDecodingException(DeadLetterReason.PAYLOAD_TOO_LARGE,
                    "payload is " + payload.length + " bytes, the maximum is " + maxPayloadBytes);
        }
        String text = utf8(payload);
        if (text.charAt(0) == '\uFEFF') {
            // The byte parser would skip it, but it would stay in the text the task carries.
            throw new EventDecodingException(DeadLetterReason.MALFORMED_JSON, "payload starts with a byte order mark, which JSON text must not");
        }
        JsonNode tree;
        try {
            // From the bytes, not the text: Jackson's byte parser is the faster of the two.
            tree = strict().readTree(payload);
        } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
            throw constraintViolated(e);
        } catch (JsonProcessingException e) {
            String m = String.valueOf(e.getOriginalMessage());
            if (m.startsWith("Duplicate field")) {
                throw new EventDecodingException(DeadLetterReason.DUPLICATE_KEY, "payload has a duplicate key: " + m);
            }
            if (m.contains("end-of-input")) {
                throw new EventDecodingException(DeadLetterReason.TRUNCATED_JSON, "payload ends before its JSON does: " + m);
            }
            throw new EventDecodingException(DeadLetterReason.MALFORMED_JSON, "payload is not valid JSON: " + m);
        } catch (java.io.IOException e) {
            throw new EventDecodingException(DeadLetterReason.MALFORMED_JSON, "payload is not valid JSON: " + e.getMessage());
        }
        if (tree == null || !tree.isObject()) {
            throw new EventDecodingException(DeadLetterReason.NOT_AN_OBJECT,
                    "payload must be a JSON object, got " + (tree == null ? "nothing" : tree.getNodeType()));
        }
        checkValues(tree);
        return new Event(eventId(tree, payload, messageKey, messageIdentity), text, publishTime);
    }

    /**
     * Which of the parser's limits a payload broke: each its own reason, so a 1,000-digit number is
     * not reported as deep nesting. Jackson names the limit at the start of its message.
     */
    private EventDecodingException constraintViolated(com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
        String m = String.valueOf(e.getMessage());
        if (m.startsWith("Number value length")) {
            return new EventDecodingException(DeadLetterReason.NUMBER_TOO_LONG, "payload has a number longer than "
                    + com.fasterxml.jackson.core.StreamReadConstraints.DEFAULT_MAX_NUM_LEN + " characters (a Python worker refuses "
                    + "integers of more than 4,300 digits; send long numbers as strings)");
        }
        if (m.startsWith("Name length")) {
            return new EventDecodingException(DeadLetterReason.FIELD_NAME_TOO_LONG, "payload has a field name longer than "
                    + com.fasterxml.jackson.core.StreamReadConstraints.DEFAULT_MAX_NAME_LEN + " characters");
        }
        if (m.startsWith("String value length")) {
            return new EventDecodingException(DeadLetterReason.STRING_TOO_LONG, "payload has a string longer than "
                    + com.fasterxml.jackson.core.StreamReadConstraints.DEFAULT_MAX_STRING_LEN + " characters");
        }
        if (m.startsWith("Document nesting depth")) {
            return new EventDecodingException(DeadLetterReason.NESTING_TOO_DEEP, "payload is nested deeper than " + maxNestingDepth + " levels");
        }
        return new EventDecodingException(DeadLetterReason.MALFORMED_JSON, "payload exceeds a parser limit: " + m);
    }

    /**
     * The payload as text, refusing malformed UTF-8. The JDK's lenient decoder is much faster than
     * a reporting one; it replaces what is malformed with U+FFFD, so only a payload whose text
     * holds U+FFFD (rare, and legal when encoded properly) needs the strict check.
     */
    private static String utf8(byte[] payload) throws EventDecodingException {
        String text = new String(payload, StandardCharsets.UTF_8);
        if (text.indexOf('\uFFFD') >= 0) {
            try {
                StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(payload));
            } catch (CharacterCodingException e) {
                throw new EventDecodingException(DeadLetterReason.INVALID_UTF8, "payload is not valid UTF-8");
            }
        }
        return text;
    }

    /**
     * Numbers beyond a double (a worker's json module reads them as infinity) and strings with
     * unpaired surrogates (a worker cannot store or log them as UTF-8) are refused.
     */
    private static void checkValues(JsonNode node) throws EventDecodingException {
        if (node.isContainerNode()) {
            for (java.util.Iterator<java.util.Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                java.util.Map.Entry<String, JsonNode> e = it.next();
                checkText(e.getKey());
                checkValues(e.getValue());
            }
            if (node.isArray()) {
                for (JsonNode item : node) {
                    checkValues(item);
                }
            }
        } else if (node.isFloatingPointNumber() && Double.isInfinite(node.doubleValue())) {
            throw new EventDecodingException(DeadLetterReason.NUMBER_OUT_OF_RANGE, "a number is beyond the range of a double");
        } else if (node.isTextual()) {
            checkText(node.textValue());
        }
    }

    private static void checkText(String s) throws EventDecodingException {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new EventDecodingException(DeadLetterReason.INVALID_UNICODE, "a string holds an unpaired surrogate (\\u"
                        + Integer.toHexString(c) + ")");
            }
        }
    }

    private String eventId(JsonNode tree, byte[] payload, String messageKey, String messageIdentity)
            throws EventDecodingException {
        JsonNode id = tree.at(idPointer);
        if (!id.isMissingNode() && !id.isNull()) {
            if (id.isTextual() && !id.textValue().isEmpty()) {
                return IdempotencyKeys.ofString(id.textValue());
            }
            if (id.isIntegralNumber()) {
                return IdempotencyKeys.ofInteger(id.bigIntegerValue());
            }
            throw new EventDecodingException(DeadLetterReason.INVALID_EVENT_ID,
                    "event id at " + idPointer + " must be a non-empty string or an integer, got " + id.getNodeType());
        }
        if (requireId) {
            throw new EventDecodingException(DeadLetterReason.MISSING_EVENT_ID, "no event id at " + idPointer + " (events.require_id is on)");
        }
        switch (idFallback) {
            case MESSAGE_KEY:
                if (messageKey == null || messageKey.isEmpty()) {
                    throw new EventDecodingException(DeadLetterReason.MISSING_EVENT_ID, "no event id at " + idPointer
                            + " and no message key (events.id_fallback is message_key)");
                }
                return IdempotencyKeys.ofMessageKey(messageKey);
            case PAYLOAD_HASH:
                return IdempotencyKeys.ofPayload(payload);
            default:
                if (messageIdentity == null) {
                    throw new EventDecodingException(DeadLetterReason.MISSING_EVENT_ID, "no event id at " + idPointer
                            + " and no message id to fall back on");
                }
                return messageIdentity;
        }
    }
}
