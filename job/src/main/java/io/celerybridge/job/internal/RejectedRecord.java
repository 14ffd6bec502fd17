package io.celerybridge.job.internal;

import io.celerybridge.connectors.pulsar.PulsarRecord;

/** A record a stage refused, with the stage and a stable reason code. A Flink POJO. */
public class RejectedRecord {
    private PulsarRecord record;
    private String stage;
    private String reason;
    private String message;
    private String eventId;
    private int attempts = 1;
    private String firstFailure;

    public RejectedRecord() {}

    public RejectedRecord(PulsarRecord record, String stage, String reason, String message) {
        this.record = record;
        this.stage = stage;
        this.reason = reason;
        this.message = message;
    }

    public RejectedRecord withEvent(String eventId) {
        this.eventId = eventId;
        return this;
    }

    /** How many times the stage tried, and when it first failed (ISO-8601), for retried stages. */
    public RejectedRecord withAttempts(int attempts, String firstFailure) {
        this.attempts = attempts;
        this.firstFailure = firstFailure;
        return this;
    }

    public String getEventId() {
        return eventId;
    }

    public void setEventId(String eventId) {
        this.eventId = eventId;
    }

    public int getAttempts() {
        return attempts;
    }

    public void setAttempts(int attempts) {
        this.attempts = attempts;
    }

    public String getFirstFailure() {
        return firstFailure;
    }

    public void setFirstFailure(String firstFailure) {
        this.firstFailure = firstFailure;
    }

    public PulsarRecord getRecord() {
        return record;
    }

    public void setRecord(PulsarRecord record) {
        this.record = record;
    }

    public String getStage() {
        return stage;
    }

    public void setStage(String stage) {
        this.stage = stage;
    }

    public String getReason() {
        return reason;
    }

    public void setReason(String reason) {
        this.reason = reason;
    }

    public String getMessage() {
        return message;
    }

    public void setMessage(String message) {
        this.message = message;
    }

    @Override
    public String toString() {
        return "RejectedRecord{stage=" + stage + ", reason=" + reason + ", record=" + record + "}";
    }
}
