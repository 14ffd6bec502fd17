package io.celerybridge.connectors.pulsar;

import org.apache.flink.annotation.PublicEvolving;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A Pulsar message as it arrived: the payload bytes untouched plus its metadata. The source
 * never interprets the payload, so a malformed one still reaches the pipeline (and the DLQ)
 * instead of failing inside the connector.
 *
 * <p>A Flink POJO (public no-arg constructor, getters and setters).
 */
@PublicEvolving
public class PulsarRecord {

    private byte[] payload;
    private String topic;
    private String messageId;
    private String key;
    private long publishTime;
    private long eventTime;
    private Map<String, String> properties = new HashMap<>();

    public PulsarRecord() {}

    public PulsarRecord(
            byte[] payload,
            String topic,
            String messageId,
            String key,
            long publishTime,
            long eventTime,
            Map<String, String> properties) {
        this.payload = payload;
        this.topic = topic;
        this.messageId = messageId;
        this.key = key;
        this.publishTime = publishTime;
        this.eventTime = eventTime;
        this.properties = new HashMap<>(properties);
    }

    public byte[] getPayload() {
        return payload;
    }

    public void setPayload(byte[] payload) {
        this.payload = payload;
    }

    public String getTopic() {
        return topic;
    }

    public void setTopic(String topic) {
        this.topic = topic;
    }

    public String getMessageId() {
        return messageId;
    }

    public void setMessageId(String messageId) {
        this.messageId = messageId;
    }

    /** The message key, or null when the producer set none. */
    public String getKey() {
        return key;
    }

    public void setKey(String key) {
        this.key = key;
    }

    /** Broker publish time, epoch milliseconds. */
    public long getPublishTime() {
        return publishTime;
    }

    public void setPublishTime(long publishTime) {
        this.publishTime = publishTime;
    }

    /** Producer-set event time, epoch milliseconds, or 0 when unset. */
    public long getEventTime() {
        return eventTime;
    }

    public void setEventTime(long eventTime) {
        this.eventTime = eventTime;
    }

    public Map<String, String> getProperties() {
        return properties;
    }

    public void setProperties(Map<String, String> properties) {
        this.properties = properties;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof PulsarRecord)) {
            return false;
        }
        PulsarRecord r = (PulsarRecord) o;
        return publishTime == r.publishTime
                && eventTime == r.eventTime
                && Arrays.equals(payload, r.payload)
                && Objects.equals(topic, r.topic)
                && Objects.equals(messageId, r.messageId)
                && Objects.equals(key, r.key)
                && Objects.equals(properties, r.properties);
    }

    @Override
    public int hashCode() {
        return Objects.hash(topic, messageId);
    }

    @Override
    public String toString() {
        // The payload may hold user data: only its size is shown.
        return "PulsarRecord{topic=" + topic + ", messageId=" + messageId + ", bytes="
                + (payload == null ? 0 : payload.length) + "}";
    }
}
