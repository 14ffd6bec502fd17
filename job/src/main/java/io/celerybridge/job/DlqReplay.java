package io.celerybridge.job;

import io.celerybridge.job.internal.ToDeadLetter;

import org.apache.flink.api.java.utils.ParameterTool;

import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Reader;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.TypedMessageBuilder;

import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Re-publishes DLQ records to the main topic: all of them, or those whose last failure falls in
 * a time range and/or whose reason is one of those given. The original bytes, key and properties
 * go back unchanged (the {@code celery-bridge.*} failure properties are dropped; a
 * {@code celery-bridge.replayed-from} property names the DLQ message). Replaying is safe to repeat:
 * the enqueue is idempotent per event id, so a replayed event that was already enqueued (within
 * the dedup TTL) never yields a second task.
 *
 * <pre>
 * java -cp celery-bridge-job.jar:FLINK_CLASSPATH io.celerybridge.job.DlqReplay \
 *     --pulsar.service-url pulsar://127.0.0.1:6650 --dlq-topic T-dlq --topic T \
 *     [--from 2026-11-28T00:00:00Z] [--to 2026-11-29T00:00:00Z] [--reason MALFORMED_JSON,UNENCODABLE_TASK]
 * </pre>
 * It reads the DLQ from its start to its end at launch, then exits, printing the counts.
 */
public final class DlqReplay {

    public static final String REPLAYED_FROM = ToDeadLetter.PREFIX + "replayed-from";

    private DlqReplay() {}

    public static void main(String[] args) throws Exception {
        ParameterTool p = ParameterTool.fromArgs(args);
        Result r = replay(p.get("pulsar.service-url", "pulsar://127.0.0.1:6650"), p.getRequired("dlq-topic"), p.getRequired("topic"),
                p.has("from") ? Instant.parse(p.get("from")) : Instant.MIN,
                p.has("to") ? Instant.parse(p.get("to")) : Instant.MAX,
                p.has("reason") ? new HashSet<>(Arrays.asList(p.get("reason").split(","))) : Set.of());
        System.out.println("replay: read " + r.read + " DLQ records, re-published " + r.replayed + ", skipped " + r.skipped);
    }

    /** Counts of one replay. */
    public static final class Result {
        public long read;
        public long replayed;
        public long skipped;
    }

    public static Result replay(String serviceUrl, String dlqTopic, String topic, Instant from, Instant to, Set<String> reasons)
            throws Exception {
        Result result = new Result();
        try (PulsarClient client = PulsarClient.builder().serviceUrl(serviceUrl).build();
                Reader<byte[]> reader = client.newReader(Schema.BYTES).topic(dlqTopic)
                        .startMessageId(MessageId.earliest).create();
                Producer<byte[]> producer = client.newProducer(Schema.BYTES).topic(topic)
                        .blockIfQueueFull(true).create()) {
            while (reader.hasMessageAvailable()) {
                Message<byte[]> m = reader.readNext(30, TimeUnit.SECONDS);
                if (m == null) {
                    break;
                }
                result.read++;
                if (!selected(m, from, to, reasons)) {
                    result.skipped++;
                    continue;
                }
                Map<String, String> properties = new HashMap<>();
                m.getProperties().forEach((k, v) -> {
                    if (!k.startsWith(ToDeadLetter.PREFIX)) {
                        properties.put(k, v);
                    }
                });
                properties.put(REPLAYED_FROM, m.getMessageId().toString());
                TypedMessageBuilder<byte[]> out = producer.newMessage().value(m.getData()).properties(properties);
                if (m.hasKey()) {
                    out.key(m.getKey());
                }
                out.sendAsync();
                result.replayed++;
            }
            producer.flush();
        }
        return result;
    }

    private static boolean selected(Message<byte[]> m, Instant from, Instant to, Set<String> reasons) {
        if (!reasons.isEmpty() && !reasons.contains(m.getProperty(ToDeadLetter.REASON))) {
            return false;
        }
        String last = m.getProperty(ToDeadLetter.LAST_FAILURE);
        Instant failed = last != null ? Instant.parse(last) : Instant.ofEpochMilli(m.getPublishTime());
        return !failed.isBefore(from) && failed.isBefore(to);
    }
}
