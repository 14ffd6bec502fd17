package io.celerybridge.udfs;

import org.apache.flink.annotation.PublicEvolving;

/** An event the processing stage gave up on, with why and after how many attempts. A Flink POJO. */
@PublicEvolving
public class FailedEvent {

    private Event event;
    private String reason;
    private String detail;
    private int attempts;
    private long firstFailedAt;

    public FailedEvent() {}

    public FailedEvent(Event event, String reason, String detail, int attempts) {
        this(event, reason, detail, attempts, 0);
    }

    /** @param firstFailedAt when the stage first failed to process it (epoch ms; 0: now) */
    public FailedEvent(Event event, String reason, String detail, int attempts, long firstFailedAt) {
        this.event = event;
        this.reason = reason;
        this.detail = detail;
        this.attempts = attempts;
        this.firstFailedAt = firstFailedAt;
    }

    /** When the stage first failed to process the event (epoch ms), retries and outages included; 0 if unknown. */
    public long getFirstFailedAt() {
        return firstFailedAt;
    }

    public void setFirstFailedAt(long firstFailedAt) {
        this.firstFailedAt = firstFailedAt;
    }

    public Event getEvent() {
        return event;
    }

    public void setEvent(Event event) {
        this.event = event;
    }

    /** A stable code: the UDF's own, or one of the stage's (see {@code BatchUdfOperator}). */
    public String getReason() {
        return reason;
    }

    public void setReason(String reason) {
        this.reason = reason;
    }

    public String getDetail() {
        return detail;
    }

    public void setDetail(String detail) {
        this.detail = detail;
    }

    /** Calls of the UDF that included this event. */
    public int getAttempts() {
        return attempts;
    }

    public void setAttempts(int attempts) {
        this.attempts = attempts;
    }

    @Override
    public String toString() {
        return "FailedEvent{" + (event == null ? null : event.getId()) + ", " + reason + ", attempts=" + attempts + ", " + detail + "}";
    }
}
