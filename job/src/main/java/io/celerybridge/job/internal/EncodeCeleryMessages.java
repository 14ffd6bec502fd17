package io.celerybridge.job.internal;

import io.celerybridge.connectors.celery.CeleryEncodingException;
import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.celery.CeleryMessage;
import io.celerybridge.connectors.celery.CeleryTask;
import io.celerybridge.connectors.pulsar.PulsarRecord;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.route.EventToTaskMapper;

import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Turns each event into its task and encodes it for the Celery sink. A task no stock worker
 * could run leaves through {@link #REJECTED} with the reason, so it is dead-lettered instead of
 * reaching the broker.
 */
public class EncodeCeleryMessages extends ProcessFunction<Event, CeleryMessage> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<RejectedRecord> REJECTED = new OutputTag<>("encode-rejected") {};
    public static final String UNENCODABLE_TASK = "UNENCODABLE_TASK";

    private final EventToTaskMapper mapper;
    private final CeleryEnvelopeCodec codec;
    private transient org.apache.flink.metrics.Counter tasksEncoded;

    public EncodeCeleryMessages(EventToTaskMapper mapper, CeleryEnvelopeCodec codec) {
        this.mapper = mapper;
        this.codec = codec;
    }

    @Override
    public void open(org.apache.flink.configuration.Configuration parameters) {
        tasksEncoded = getRuntimeContext().getMetricGroup().counter("tasksEncoded");
    }

    @Override
    public void processElement(Event event, Context ctx, Collector<CeleryMessage> out) {
        CeleryTask task = mapper.map(event);
        try {
            out.collect(codec.toMessage(task).withSourceTimestamp(event.getPublishTime()));
            tasksEncoded.inc();
        } catch (CeleryEncodingException e) {
            ctx.output(REJECTED, new RejectedRecord(originalRecord(event), "encode", UNENCODABLE_TASK, e.getMessage())
                    .withEvent(event.getId()));
        }
    }

    /** The payload text was decoded from valid UTF-8, so its UTF-8 is the original bytes. */
    static PulsarRecord originalRecord(Event event) {
        return new PulsarRecord(event.getPayloadJson().getBytes(StandardCharsets.UTF_8), event.getSourceTopic(),
                event.getSourceMessageId(), event.getSourceKey(), event.getPublishTime(), 0,
                event.getSourceProperties() == null ? Map.of() : event.getSourceProperties());
    }
}
