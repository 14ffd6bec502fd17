package io.celerybridge.udfs.decode;

import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.decode.EventDecodingException.Reason;

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
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Decodes a payload strictly: UTF-8, one JSON object, no duplicate keys, nothing after it.
 * The event id comes from a JSON pointer, else the message key, else a SHA-256 of the payload
 * (so identical payloads deduplicate).
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
    private transient ObjectMapper strict;

    public EventDecoder(String idPointer, int maxPayloadBytes) {
        this(idPointer, maxPayloadBytes, DEFAULT_MAX_NESTING_DEPTH, false);
    }

    /**
     * @param maxNestingDepth deeper payloads are refused (NESTING_TOO_DEEP): a worker's JSON
     *     decoder recurses per level
     * @param requireId refuse payloads without an id (MISSING_EVENT_ID) instead of falling back to
     *     the message key or a hash of the payload
     */
    public EventDecoder(String idPointer, int maxPayloadBytes, int maxNestingDepth, boolean requireId) {
        JsonPointer.compile(idPointer); // fail at build time on a bad pointer
        this.idPointer = idPointer;
        this.maxPayloadBytes = maxPayloadBytes;
        this.maxNestingDepth = maxNestingDepth;
        this.requireId = requireId;
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

    public Event decode(byte[] payload, String messageKey, long publishTime) throws EventDecodingException {
        if (payload == null || payload.length == 0) {
            throw new EventDecodingException(Reason.EMPTY_PAYLOAD, "payload is empty");
        }
        if (payload.length > maxPayloadBytes) {
            throw new EventDecodingException(Reason.PAYLOAD_TOO_LARGE,
                    "payload is " + payload.length + " bytes, the maximum is " + maxPayloadBytes);
        }
        String text = utf8(payload);
        if (text.charAt(0) == '\uFEFF') {
            // The byte parser would skip it, but it would stay in the text the task carries.
            throw new EventDecodingException(Reason.MALFORMED_JSON, "payload starts with a byte order mark, which JSON text must not");
        }
        JsonNode tree;
        try {
            // From the bytes, not the text: Jackson's byte parser is the faster of the two.
            tree = strict().readTree(payload);
        } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
            throw new EventDecodingException(Reason.NESTING_TOO_DEEP, "payload is nested deeper than " + maxNestingDepth + " levels");
        } catch (JsonProcessingException e) {
            String m = String.valueOf(e.getOriginalMessage());
            if (m.startsWith("Duplicate field")) {
                throw new EventDecodingException(Reason.DUPLICATE_KEY, "payload has a duplicate key: " + m);
            }
            if (m.contains("end-of-input")) {
                throw new EventDecodingException(Reason.TRUNCATED_JSON, "payload ends before its JSON does: " + m);
            }
            throw new EventDecodingException(Reason.MALFORMED_JSON, "payload is not valid JSON: " + m);
        } catch (java.io.IOException e) {
            throw new EventDecodingException(Reason.MALFORMED_JSON, "payload is not valid JSON: " + e.getMessage());
        }
        if (tree == null || !tree.isObject()) {
            throw new EventDecodingException(Reason.NOT_AN_OBJECT,
                    "payload must be a JSON object, got " + (tree == null ? "nothing" : tree.getNodeType()));
        }
        checkValues(tree);
        return new Event(eventId(tree, payload, messageKey), text, publishTime);
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
                throw new EventDecodingException(Reason.INVALID_UTF8, "payload is not valid UTF-8");
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
            throw new EventDecodingException(Reason.NUMBER_OUT_OF_RANGE, "a number is beyond the range of a double");
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
                throw new EventDecodingException(Reason.INVALID_UNICODE, "a string holds an unpaired surrogate (\\u"
                        + Integer.toHexString(c) + ")");
            }
        }
    }

    private String eventId(JsonNode tree, byte[] payload, String messageKey) throws EventDecodingException {
        JsonNode id = tree.at(idPointer);
        if (!id.isMissingNode() && !id.isNull()) {
            if (!(id.isTextual() || id.isIntegralNumber()) || id.asText().isEmpty()) {
                throw new EventDecodingException(Reason.INVALID_EVENT_ID,
                        "event id at " + idPointer + " must be a non-empty string or an integer, got " + id.getNodeType());
            }
            return id.asText();
        }
        if (requireId) {
            throw new EventDecodingException(Reason.MISSING_EVENT_ID, "no event id at " + idPointer + " (events.require_id is on)");
        }
        if (messageKey != null && !messageKey.isEmpty()) {
            return messageKey;
        }
        return "sha256:" + sha256Hex(payload);
    }

    private static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }
}
