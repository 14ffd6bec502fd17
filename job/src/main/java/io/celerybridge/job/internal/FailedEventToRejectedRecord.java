package io.celerybridge.job.internal;

import io.celerybridge.connectors.pulsar.PulsarRecord;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.FailedEvent;

import org.apache.flink.api.common.functions.MapFunction;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/** An event the processing stage gave up on, as a rejected record carrying the original message. */
public class FailedEventToRejectedRecord implements MapFunction<FailedEvent, RejectedRecord> {
    private static final long serialVersionUID = 1L;

    public static final String STAGE = "process";

    @Override
    public RejectedRecord map(FailedEvent failed) {
        return new RejectedRecord(originalRecord(failed.getEvent()), STAGE, failed.getReason(), failed.getDetail())
                .withEvent(failed.getEvent().getId())
                .withAttempts(failed.getAttempts(),
                        failed.getFirstFailedAt() > 0 ? java.time.Instant.ofEpochMilli(failed.getFirstFailedAt()).toString() : null);
    }

    /** The payload text was decoded from valid UTF-8, so its UTF-8 is the original bytes. */
    static PulsarRecord originalRecord(Event event) {
        return new PulsarRecord(event.getPayloadJson().getBytes(StandardCharsets.UTF_8), event.getSourceTopic(),
                event.getSourceMessageId(), event.getSourceKey(), event.getPublishTime(), event.getSourceEventTime(),
                event.getSourceProperties() == null ? Map.of() : event.getSourceProperties());
    }
}
