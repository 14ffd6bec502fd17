package io.celerybridge.connectors.celery;

import org.apache.flink.annotation.PublicEvolving;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/**
 * Deterministic Celery task ids: a name-based UUID (RFC 4122 version 5) of a key, so the same
 * key always yields the same task id and anything downstream can correlate and deduplicate.
 */
@PublicEvolving
public final class CeleryTaskIds {

    /** Namespace of celery-bridge task ids (a fixed random UUID; changing it changes every id). */
    public static final UUID NAMESPACE = UUID.fromString("6f1c9a52-3c1e-4a57-9d7b-2f0c5e8a41d3");

    private CeleryTaskIds() {}

    /** The task id for a key (typically an event id). */
    public static String forKey(String key) {
        return nameUuid(NAMESPACE, key).toString();
    }

    static UUID nameUuid(UUID namespace, String name) {
        MessageDigest sha1;
        try {
            sha1 = MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required by every Java platform", e);
        }
        ByteBuffer ns = ByteBuffer.allocate(16);
        ns.putLong(namespace.getMostSignificantBits()).putLong(namespace.getLeastSignificantBits());
        sha1.update(ns.array());
        byte[] hash = sha1.digest(name.getBytes(StandardCharsets.UTF_8));
        hash[6] = (byte) ((hash[6] & 0x0f) | 0x50); // version 5
        hash[8] = (byte) ((hash[8] & 0x3f) | 0x80); // IETF variant
        ByteBuffer bb = ByteBuffer.wrap(hash, 0, 16);
        return new UUID(bb.getLong(), bb.getLong());
    }
}
