package io.celerybridge.job.internal;

import io.celerybridge.connectors.celery.IdempotencyKeys;
import io.celerybridge.connectors.pulsar.PulsarRecord;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.decode.EventDecoder;
import io.celerybridge.udfs.decode.EventDecodingException;

import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Decodes each record; what cannot be decoded leaves through {@link #REJECTED} with its reason.
 * A record's own identity is its topic and message id, or, for a record the DLQ replay published,
 * the identity it had in its first life ({@link #REPLAY_OF}), so replaying it twice is one event.
 */
public class DecodeEvents extends ProcessFunction<PulsarRecord, Event> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<RejectedRecord> REJECTED = new OutputTag<>("decode-rejected") {};

    /** Set by the DLQ replay: the identity of the event the record was dead-lettered as. */
    public static final String REPLAY_OF = "celery-bridge.replay-of";

    private final EventDecoder decoder;
    private transient org.apache.flink.metrics.Counter eventsIn;

    public DecodeEvents(EventDecoder decoder) {
        this.decoder = decoder;
    }

    @Override
    public void open(org.apache.flink.configuration.Configuration parameters) {
        eventsIn = getRuntimeContext().getMetricGroup().counter("eventsIn");
    }

    @Override
    public void processElement(PulsarRecord record, Context ctx, Collector<Event> out) {
        eventsIn.inc();
        try {
            out.collect(decoder.decode(record.getPayload(), record.getKey(), record.getPublishTime(), identity(record))
                    .withSource(record.getTopic(), record.getMessageId(), record.getKey(), record.getEventTime(),
                            record.getProperties()));
        } catch (EventDecodingException e) {
            ctx.output(REJECTED, new RejectedRecord(record, "decode", e.reason().name(), e.getMessage()).withEvent(identity(record)));
        }
    }

    /** The record's own identity: what a replay carries from the record's first life, else its topic and message id. */
    private static String identity(PulsarRecord record) {
        String replayOf = record.getProperties() == null ? null : record.getProperties().get(REPLAY_OF);
        return replayOf != null && !replayOf.isEmpty() ? replayOf : IdempotencyKeys.ofMessage(record.getTopic(), record.getMessageId());
    }
}
