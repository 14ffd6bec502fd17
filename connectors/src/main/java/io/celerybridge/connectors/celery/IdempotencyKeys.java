package io.celerybridge.connectors.celery;

import org.apache.flink.annotation.PublicEvolving;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The one place that says how a thing becomes an idempotency key (what task ids derive from and
 * what the sink marks done), so that two different things never share a key.
 *
 * <p>A string id is its own key: the common case reads as the id. Every other kind of key starts
 * with {@value #RESERVED}, and a string id that itself starts with it gets one more, so no string
 * id can ever equal a key of another kind: {@code "1"} and {@code 1} differ, as do an id that
 * looks like a batch key and the batch.
 */
@PublicEvolving
public final class IdempotencyKeys {

    /** Starts every key that is not a plain string id. */
    public static final String RESERVED = "~";

    private IdempotencyKeys() {}

    /** A string id (never empty). */
    public static String ofString(String id) {
        return id.startsWith(RESERVED) ? RESERVED + id : id;
    }

    /** An integer id, as its canonical decimal text. */
    public static String ofInteger(java.math.BigInteger id) {
        return RESERVED + "int:" + id;
    }

    /** A message's own position: the same whenever that message is read again, unique per publish. */
    public static String ofMessage(String topic, String messageId) {
        return RESERVED + "msg:" + topic + "@" + messageId;
    }

    /** A message key, for producers whose keys name events, never entities. */
    public static String ofMessageKey(String key) {
        return RESERVED + "key:" + key;
    }

    /** The bytes of a payload: identical payloads are one event. */
    public static String ofPayload(byte[] payload) {
        return RESERVED + "sha256:" + sha256Hex(payload);
    }

    /** A batch task, from its (sorted, distinct) member keys. */
    static String ofBatch(String batchTaskId) {
        return RESERVED + "batch:" + batchTaskId;
    }

    /** What a batch task's id is derived from: no string id can produce it. */
    static String batchIdSeed(java.util.List<String> sortedMemberKeys) {
        return RESERVED + "batch\n" + String.join("\n", sortedMemberKeys);
    }

    /** A digest of the key, so a dedup key has a fixed size whatever the id's length. */
    public static String digest(String key) {
        return sha256Hex(key.getBytes(StandardCharsets.UTF_8));
    }

    static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }
}
