package io.celerybridge.udfs.runtime;

import io.celerybridge.udfs.Event;

import org.apache.flink.annotation.Internal;

/** An event held by the stage: batching, or awaiting a retry. Kept in operator state. A Flink POJO. */
@Internal
public class PendingEvent {

    private Event event;
    private long arrivedAt;
    private int attempts;
    private long notBefore;
    private String lastError;
    private long firstFailedAt;

    public PendingEvent() {}

    PendingEvent(Event event, long arrivedAt) {
        this.event = event;
        this.arrivedAt = arrivedAt;
    }

    public Event getEvent() {
        return event;
    }

    public void setEvent(Event event) {
        this.event = event;
    }

    /** Processing time it entered the stage (epoch ms). */
    public long getArrivedAt() {
        return arrivedAt;
    }

    public void setArrivedAt(long arrivedAt) {
        this.arrivedAt = arrivedAt;
    }

    /** Failed calls spent on this event. */
    public int getAttempts() {
        return attempts;
    }

    public void setAttempts(int attempts) {
        this.attempts = attempts;
    }

    /** Epoch ms before which it is not retried; 0 when not awaiting a retry. */
    public long getNotBefore() {
        return notBefore;
    }

    public void setNotBefore(long notBefore) {
        this.notBefore = notBefore;
    }

    /** Processing time of its first failed call (epoch ms); 0 while it has not failed. Refunds keep it. */
    public long getFirstFailedAt() {
        return firstFailedAt;
    }

    public void setFirstFailedAt(long firstFailedAt) {
        this.firstFailedAt = firstFailedAt;
    }

    public String getLastError() {
        return lastError;
    }

    public void setLastError(String lastError) {
        this.lastError = lastError;
    }
}
