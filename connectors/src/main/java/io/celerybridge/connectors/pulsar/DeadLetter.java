package io.celerybridge.connectors.pulsar;

import org.apache.flink.annotation.PublicEvolving;

import java.util.HashMap;
import java.util.Map;

/**
 * A record for a dead-letter topic: the original payload bytes, unchanged, with the original key
 * and properties plus whatever properties explain the failure. A Flink POJO.
 */
@PublicEvolving
public class DeadLetter {

    private byte[] payload;
    private String key;
    private long eventTime;
    private Map<String, String> properties = new HashMap<>();

    public DeadLetter() {}

    public DeadLetter(byte[] payload, String key, long eventTime, Map<String, String> properties) {
        this.payload = payload;
        this.key = key;
        this.eventTime = eventTime;
        this.properties = new HashMap<>(properties);
    }

    public byte[] getPayload() {
        return payload;
    }

    public void setPayload(byte[] payload) {
        this.payload = payload;
    }

    public String getKey() {
        return key;
    }

    public void setKey(String key) {
        this.key = key;
    }

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
    public String toString() {
        return "DeadLetter{bytes=" + (payload == null ? 0 : payload.length) + ", properties=" + properties.keySet() + "}";
    }
}
