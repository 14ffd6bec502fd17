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

    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final String idPointer;
    private final int maxPayloadBytes;

    public EventDecoder(String idPointer, int maxPayloadBytes) {
        JsonPointer.compile(idPointer); // fail at build time on a bad pointer
        this.idPointer = idPointer;
        this.maxPayloadBytes = maxPayloadBytes;
    }

    public Event decode(byte[] payload, String messageKey, long publishTime) throws EventDecodingException {
        if (payload == null || payload.length == 0) {
            throw new EventDecodingException(Reason.EMPTY_PAYLOAD, "payload is empty");
        }
        if (payload.length > maxPayloadBytes) {
            throw new EventDecodingException(Reason.PAYLOAD_TOO_LARGE,
                    "payload is " + payload.length + " bytes, the maximum is " + maxPayloadBytes);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(payload))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new EventDecodingException(Reason.INVALID_UTF8, "payload is not valid UTF-8");
        }
        JsonNode tree;
        try {
            tree = STRICT.readTree(text);
        } catch (JsonProcessingException e) {
            throw new EventDecodingException(Reason.MALFORMED_JSON, "payload is not valid JSON: " + e.getOriginalMessage());
        }
        if (tree == null || !tree.isObject()) {
            throw new EventDecodingException(Reason.NOT_AN_OBJECT,
                    "payload must be a JSON object, got " + (tree == null ? "nothing" : tree.getNodeType()));
        }
        return new Event(eventId(tree, payload, messageKey), text, publishTime);
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
