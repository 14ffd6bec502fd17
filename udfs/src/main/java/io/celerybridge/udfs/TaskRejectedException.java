package io.celerybridge.udfs;

import org.apache.flink.annotation.PublicEvolving;

/** A task that cannot be sent; its event is dead-lettered with {@link #reason()}. */
@PublicEvolving
public class TaskRejectedException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String reason;

    public TaskRejectedException(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
