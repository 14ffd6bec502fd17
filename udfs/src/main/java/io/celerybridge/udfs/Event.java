package io.celerybridge.udfs;

import org.apache.flink.annotation.PublicEvolving;

import java.util.Objects;

/**
 * A decoded event: its id (what deduplication and task ids key on), its payload as validated
 * JSON text (the original bytes are exactly its UTF-8), when it was published, and where it came
 * from, so a later rejection can still dead-letter it with its origin. A Flink POJO.
 */
@PublicEvolving
public class Event {

    private String id;
    private String payloadJson;
    private long publishTime;
    private String sourceTopic;
    private String sourceMessageId;
    private String sourceKey;
    private long sourceEventTime;
    private java.util.Map<String, String> sourceProperties = new java.util.HashMap<>();
    private String deadLetteredAs;

    public Event() {}

    public Event(String id, String payloadJson, long publishTime) {
        this.id = id;
        this.payloadJson = payloadJson;
        this.publishTime = publishTime;
    }

    /**
     * Where the event was read from: an opaque topic name and message id, its key (or null), its
     * event time as the producer set it (0: none) and its properties.
     */
    public Event withSource(String topic, String messageId, String key, long eventTime, java.util.Map<String, String> properties) {
        this.sourceTopic = topic;
        this.sourceMessageId = messageId;
        this.sourceKey = key;
        this.sourceEventTime = eventTime;
        this.sourceProperties = properties;
        return this;
    }

    /** The source message's event time (epoch ms) as its producer set it; 0 if it set none. */
    public long getSourceEventTime() {
        return sourceEventTime;
    }

    public void setSourceEventTime(long sourceEventTime) {
        this.sourceEventTime = sourceEventTime;
    }

    /** The source message's properties, kept so a dead letter can carry them unchanged. */
    public java.util.Map<String, String> getSourceProperties() {
        return sourceProperties;
    }

    public void setSourceProperties(java.util.Map<String, String> sourceProperties) {
        this.sourceProperties = sourceProperties;
    }

    public String getSourceTopic() {
        return sourceTopic;
    }

    public void setSourceTopic(String sourceTopic) {
        this.sourceTopic = sourceTopic;
    }

    public String getSourceMessageId() {
        return sourceMessageId;
    }

    public void setSourceMessageId(String sourceMessageId) {
        this.sourceMessageId = sourceMessageId;
    }

    public String getSourceKey() {
        return sourceKey;
    }

    public void setSourceKey(String sourceKey) {
        this.sourceKey = sourceKey;
    }

    /**
     * The reason this event was already dead-lettered with, if it was (the job read it again after
     * a restart): it goes to the DLQ again with that reason, never to processing, so one event
     * never becomes both a DLQ record and a task. Null for an event not decided yet.
     */
    public String getDeadLetteredAs() {
        return deadLetteredAs;
    }

    public void setDeadLetteredAs(String deadLetteredAs) {
        this.deadLetteredAs = deadLetteredAs;
    }

    public String getId() {
        return id;
    }

    public void setId(String id) {
        this.id = id;
    }

    /** The payload, a JSON object, as text. */
    public String getPayloadJson() {
        return payloadJson;
    }

    public void setPayloadJson(String payloadJson) {
        this.payloadJson = payloadJson;
    }

    /** Epoch milliseconds. */
    public long getPublishTime() {
        return publishTime;
    }

    public void setPublishTime(long publishTime) {
        this.publishTime = publishTime;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Event)) {
            return false;
        }
        Event e = (Event) o;
        return publishTime == e.publishTime && Objects.equals(id, e.id) && Objects.equals(payloadJson, e.payloadJson);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id);
    }

    @Override
    public String toString() {
        return "Event{id=" + id + "}";
    }
}
