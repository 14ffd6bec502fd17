package io.celerybridge.udfs.runtime;

import org.apache.flink.annotation.Internal;

/**
 * Opens after a run of consecutive failed calls, stays open for a while, then lets one probe call
 * through (half-open): its success closes the circuit, its failure opens it again. Single-threaded,
 * driven by the stage's clock.
 */
@Internal
final class CircuitBreaker {

    /** Exported as a gauge: 0 closed, 1 half-open, 2 open. */
    enum State { CLOSED, HALF_OPEN, OPEN }

    private final int threshold;
    private final long openForMs;
    private State state = State.CLOSED;
    private int consecutiveFailures;
    private long openUntil;

    CircuitBreaker(int threshold, long openForMs) {
        this.threshold = threshold;
        this.openForMs = openForMs;
    }

    /** Whether a call may go out now; an open circuit whose time is up turns half-open. */
    boolean allowsCall(long now) {
        if (state == State.OPEN && now >= openUntil) {
            state = State.HALF_OPEN;
        }
        return state != State.OPEN;
    }

    void onSuccess() {
        consecutiveFailures = 0;
        state = State.CLOSED;
    }

    /** @return true if this failure opened the circuit (a failed probe re-opens it) */
    boolean onFailure(long now) {
        consecutiveFailures++;
        if (state == State.HALF_OPEN || consecutiveFailures >= threshold) {
            state = State.OPEN;
            openUntil = now + openForMs;
            return true;
        }
        return false;
    }

    State state() {
        return state;
    }

    long openUntil() {
        return openUntil;
    }
}
