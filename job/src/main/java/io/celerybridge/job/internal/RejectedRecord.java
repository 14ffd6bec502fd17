package io.celerybridge.job.internal;

import io.celerybridge.connectors.pulsar.PulsarRecord;

/** A record a stage refused, with the stage and a stable reason code. A Flink POJO. */
public class RejectedRecord {
    private PulsarRecord record;
    private String stage;
    private String reason;
    private String message;

    public RejectedRecord() {}

    public RejectedRecord(PulsarRecord record, String stage, String reason, String message) {
        this.record = record;
        this.stage = stage;
        this.reason = reason;
        this.message = message;
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
