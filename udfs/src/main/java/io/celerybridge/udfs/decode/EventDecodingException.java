package io.celerybridge.udfs.decode;

import io.celerybridge.udfs.DeadLetterReason;

import org.apache.flink.annotation.PublicEvolving;

/** A payload that cannot become an {@link io.celerybridge.udfs.Event}; carries a stable reason code. */
@PublicEvolving
public class EventDecodingException extends Exception {
    private static final long serialVersionUID = 1L;

    private final DeadLetterReason reason;

    public EventDecodingException(DeadLetterReason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public DeadLetterReason reason() {
        return reason;
    }
}
