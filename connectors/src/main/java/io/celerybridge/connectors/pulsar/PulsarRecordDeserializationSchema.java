package io.celerybridge.connectors.pulsar;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.pulsar.source.reader.deserializer.PulsarDeserializationSchema;
import org.apache.flink.util.Collector;

import org.apache.pulsar.client.api.Message;

/**
 * Passes every message on as a {@link PulsarRecord} without interpreting its payload: the
 * released connector turns a failed deserialization into a null record, so decoding belongs
 * downstream where a failure can be routed to the DLQ.
 */
@PublicEvolving
public class PulsarRecordDeserializationSchema implements PulsarDeserializationSchema<PulsarRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(Message<byte[]> message, Collector<PulsarRecord> out) {
        byte[] payload = message.getData();
        out.collect(new PulsarRecord(
                payload == null ? new byte[0] : payload,
                message.getTopicName(),
                message.getMessageId().toString(),
                message.hasKey() ? message.getKey() : null,
                message.getPublishTime(),
                message.getEventTime(),
                message.getProperties()));
    }

    @Override
    public TypeInformation<PulsarRecord> getProducedType() {
        return TypeInformation.of(PulsarRecord.class);
    }
}
