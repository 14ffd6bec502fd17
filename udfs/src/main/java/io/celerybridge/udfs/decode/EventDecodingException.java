package io.celerybridge.udfs.decode;

import org.apache.flink.annotation.PublicEvolving;

/** A payload that cannot become an {@link io.celerybridge.udfs.Event}; carries a stable reason code. */
@PublicEvolving
public class EventDecodingException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Stable, machine-readable reasons (DLQ records carry them). */
    public enum Reason {
        EMPTY_PAYLOAD,
        PAYLOAD_TOO_LARGE,
        INVALID_UTF8,
        MALFORMED_JSON,
        TRUNCATED_JSON,
        DUPLICATE_KEY,
        NESTING_TOO_DEEP,
        NUMBER_TOO_LONG,
        FIELD_NAME_TOO_LONG,
        STRING_TOO_LONG,
        NUMBER_OUT_OF_RANGE,
        INVALID_UNICODE,
        NOT_AN_OBJECT,
        MISSING_EVENT_ID,
        INVALID_EVENT_ID
    }

    private final Reason reason;

    public EventDecodingException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
