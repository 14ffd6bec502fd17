package io.celerybridge.connectors.pulsar;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.connector.pulsar.sink.writer.context.PulsarSinkContext;
import org.apache.flink.connector.pulsar.sink.writer.message.PulsarMessage;
import org.apache.flink.connector.pulsar.sink.writer.message.PulsarMessageBuilder;
import org.apache.flink.connector.pulsar.sink.writer.serializer.PulsarSerializationSchema;

/** Writes a {@link DeadLetter} as a BYTES message: payload as is, key and properties alongside. */
@PublicEvolving
public class DeadLetterSerializationSchema implements PulsarSerializationSchema<DeadLetter> {
    static {
        PulsarNativeTransport.useJavaTransport(); // before any Pulsar client: see PulsarNativeTransport
    }

    private static final long serialVersionUID = 1L;

    @Override
    public PulsarMessage<?> serialize(DeadLetter letter, PulsarSinkContext context) {
        PulsarMessageBuilder<byte[]> message = PulsarMessage.builder(letter.getPayload()).properties(letter.getProperties());
        if (letter.getKey() != null) {
            message.key(letter.getKey());
        }
        if (letter.getEventTime() > 0) {
            message.eventTime(letter.getEventTime());
        }
        return message.build();
    }
}
