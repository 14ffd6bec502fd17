package io.celerybridge.job.internal;

import io.celerybridge.connectors.pulsar.PulsarNativeTransport;
import io.celerybridge.udfs.Event;

import org.apache.flink.connector.pulsar.sink.writer.context.PulsarSinkContext;
import org.apache.flink.connector.pulsar.sink.writer.message.PulsarMessage;
import org.apache.flink.connector.pulsar.sink.writer.serializer.PulsarSerializationSchema;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** The fan-out: a processed event as its original payload, keyed by event id, with where it came from. */
public class ProcessedEventSerializationSchema implements PulsarSerializationSchema<Event> {
    static {
        PulsarNativeTransport.useJavaTransport(); // before any Pulsar client: see PulsarNativeTransport
    }

    private static final long serialVersionUID = 1L;

    @Override
    public PulsarMessage<?> serialize(Event event, PulsarSinkContext context) {
        Map<String, String> properties = new HashMap<>(event.getSourceProperties() == null ? Map.of() : event.getSourceProperties());
        properties.put(ToDeadLetter.SOURCE_TOPIC, String.valueOf(event.getSourceTopic()));
        properties.put(ToDeadLetter.SOURCE_MESSAGE_ID, String.valueOf(event.getSourceMessageId()));
        properties.put(ToDeadLetter.EVENT_ID, event.getId());
        return PulsarMessage.builder(event.getPayloadJson().getBytes(StandardCharsets.UTF_8))
                .key(event.getId())
                .eventTime(event.getPublishTime() > 0 ? event.getPublishTime() : System.currentTimeMillis())
                .properties(properties)
                .build();
    }
}
