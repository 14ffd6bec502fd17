package io.celerybridge.udfs;

import org.apache.flink.annotation.PublicEvolving;

/**
 * Every reason the bridge itself gives a dead letter (the DLQ record's {@code celery-bridge.reason}
 * and the {@code dlq_reason_records} metric's label), with what it means. A UDF may give reasons of
 * its own ({@link UdfResult#fail}); these are the built-in ones. README's table is generated from here.
 */
@PublicEvolving
public enum DeadLetterReason {
    EMPTY_PAYLOAD(Stage.DECODE, "The message has no bytes."),
    PAYLOAD_TOO_LARGE(Stage.DECODE, "The payload is larger than `events.max_payload_bytes`."),
    INVALID_UTF8(Stage.DECODE, "The payload is not valid UTF-8."),
    MALFORMED_JSON(Stage.DECODE, "The payload is not JSON (or starts with a byte order mark, or exceeds another parser limit)."),
    TRUNCATED_JSON(Stage.DECODE, "The payload ends before its JSON does."),
    DUPLICATE_KEY(Stage.DECODE, "An object has the same key twice (workers would keep only one value)."),
    NESTING_TOO_DEEP(Stage.DECODE, "Objects and arrays nest deeper than `events.max_nesting_depth`."),
    NUMBER_TOO_LONG(Stage.DECODE, "A number has more than 1,000 characters (a Python worker refuses integers of more than 4,300 digits)."),
    FIELD_NAME_TOO_LONG(Stage.DECODE, "A field name has more than 50,000 characters."),
    STRING_TOO_LONG(Stage.DECODE, "A string is longer than the parser's limit."),
    NUMBER_OUT_OF_RANGE(Stage.DECODE, "A decimal number is beyond the range of a double (Python would make it `inf`)."),
    INVALID_UNICODE(Stage.DECODE, "A string holds an unpaired surrogate escape, which a worker cannot encode."),
    NOT_AN_OBJECT(Stage.DECODE, "The payload is JSON but not an object (an array or a scalar)."),
    MISSING_EVENT_ID(Stage.DECODE, "No id at `events.id_pointer` while `events.require_id` is on, or no message key for `events.id_fallback: message_key`."),
    INVALID_EVENT_ID(Stage.DECODE, "The id at `events.id_pointer` is neither a non-empty string nor an integer."),
    SCHEMA_VIOLATION(Stage.PROCESS, "The built-in UDF's `udf.schema` refuses the event."),
    NO_ROUTE(Stage.PROCESS, "No route of `udf.routing` matches the event's type, and there is no `\"*\"` route."),
    MAPPING_FAILED(Stage.PROCESS, "A route's argument pointer finds no value in the payload."),
    INVALID_ETA(Stage.PROCESS, "The ETA is not a date-time or epoch seconds, or falls outside the years 1 to 9999 a Python `datetime` holds."),
    RETRIES_EXHAUSTED(Stage.PROCESS, "The UDF failed for this event (alone in its call, or asking to retry it) `max_retries` + 1 times; an outage spends no attempts."),
    UDF_CONTRACT_VIOLATED(Stage.PROCESS, "The UDF returned a result list that does not match its batch (size, or a null)."),
    UNENCODABLE_TASK(Stage.PROCESS, "The task cannot be a Celery message a worker decodes (arguments nested too deep, an ETA beyond `celery.visibility_timeout`, ...)."),
    TASK_TOO_LARGE(Stage.PROCESS, "The encoded task is larger than `celery.max_task_bytes`.");

    /** Where the event was refused: the DLQ record's {@code celery-bridge.stage}. */
    public enum Stage {
        DECODE, PROCESS;

        @Override
        public String toString() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Stage stage;
    private final String description;

    DeadLetterReason(Stage stage, String description) {
        this.stage = stage;
        this.description = description;
    }

    public Stage stage() {
        return stage;
    }

    public String description() {
        return description;
    }

    /** README's table of reasons, between its markers. */
    public static String markdownTable() {
        StringBuilder b = new StringBuilder("<!-- dlq-reasons:begin (generated from DeadLetterReason; do not edit) -->\n")
                .append("| reason | stage | what it means |\n| --- | --- | --- |\n");
        for (DeadLetterReason r : values()) {
            b.append("| `").append(r.name()).append("` | ").append(r.stage).append(" | ").append(r.description).append(" |\n");
        }
        return b.append("<!-- dlq-reasons:end -->\n").toString();
    }

    public static void main(String[] args) {
        System.out.print(markdownTable());
    }
}
