package io.celerybridge.connectors.celery.internal;

import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.celery.CeleryMessage;
import io.celerybridge.connectors.celery.CeleryTask;

import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.connector.base.sink.writer.RequestEntryWrapper;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

class CeleryMessageStateSerializerTest {

    private final CeleryEnvelopeCodec codec = CeleryEnvelopeCodec.builder().build();

    @Test
    void plainAndBatchMessagesSurviveTheRoundTrip() throws Exception {
        CeleryMessage plain = codec.toMessage(CeleryTask.builder().id("t-1").idempotencyKey("e-1").name("celery_bridge.add")
                .argsJson("[1, 2]").build()).withSourceTimestamp(42);
        CeleryMessage batch = codec.toMessage(CeleryTask.builder().name("celery_bridge.process_batch")
                .batchOf("events", List.of("e-2", "e-3"), List.of("{\"id\": \"e-2\"}", "{\"id\": \"e-3\"}")).build())
                .withSourceTimestamp(7);
        CeleryMessageStateSerializer serializer = new CeleryMessageStateSerializer();
        byte[] bytes = serializer.serialize(new BufferedRequestState<>(List.of(
                new RequestEntryWrapper<>(plain, plain.sizeInBytes()), new RequestEntryWrapper<>(batch, batch.sizeInBytes()))));

        List<CeleryMessage> back = serializer.deserialize(serializer.getVersion(), bytes).getBufferedRequestEntries().stream()
                .map(RequestEntryWrapper::getRequestEntry).collect(Collectors.toList());
        assertThat(back).containsExactly(plain, batch);
        assertThat(back.get(0).sourceTimestamp()).isEqualTo(42);
        assertThat(back.get(1).batchTask()).isEqualTo(batch.batchTask());
        CeleryMessage rest = back.get(1).withoutMembers(codec, Set.of(codec.dedupKey("e-2")));
        assertThat(rest.memberDedupKeys()).containsExactly(codec.dedupKey("e-3"));
        assertThat(rest.sourceTimestamp()).isEqualTo(7);
    }
}
