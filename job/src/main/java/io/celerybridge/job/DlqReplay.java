package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.celery.IdempotencyKeys;
import io.celerybridge.connectors.pulsar.PulsarConnection;
import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.job.config.BridgeOptions;
import io.celerybridge.job.config.ConfigException;
import io.celerybridge.job.config.JobCommandLine;
import io.celerybridge.job.internal.DeadLetterMarks;
import io.celerybridge.job.internal.DecodeEvents;
import io.celerybridge.job.internal.ToDeadLetter;

import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.client.api.SubscriptionType;
import org.apache.pulsar.client.api.TypedMessageBuilder;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Re-publishes DLQ records to the main topic: all of them, or those whose last failure falls in
 * a time range and/or whose reason is one of those given. It consumes the DLQ topic's durable
 * subscription ({@code dlq_subscription}, which the job creates) and acknowledges a record there
 * only once its copy is stored on the main topic, so a record is replayed once, and records not
 * selected stay for a later run. The original bytes, key and properties go back unchanged (the
 * {@code celery-bridge.*} failure properties are dropped; {@code celery-bridge.replayed-from}
 * names the DLQ message and {@code celery-bridge.replay-of} the event's identity, so an event
 * without an id is still the same event, and the idempotent enqueue never runs it twice). The
 * event's dead-letter mark in Valkey ({@link DeadLetterMarks}) is cleared first, so the replay is
 * processed rather than sent back to the DLQ.
 *
 * <pre>
 * java -cp celery-bridge-job.jar:FLINK_CLASSPATH io.celerybridge.job.DlqReplay \
 *     [--config conf/celery-bridge.yaml] [--set key=value]... \
 *     [--from 2026-11-28T00:00:00Z] [--to 2026-11-29T00:00:00Z] [--reason MALFORMED_JSON,UNENCODABLE_TASK] [--dry-run]
 * </pre>
 * The job's own configuration says where the topics are and how to connect (token, TLS). It
 * reads what the subscription holds up to the time it started, then exits, printing the counts.
 */
public final class DlqReplay {

    public static final String REPLAYED_FROM = ToDeadLetter.PREFIX + "replayed-from";

    /** A record published after the replay started is left for the next run; none is waited for longer. */
    private static final int IDLE_SECONDS = 3;

    private DlqReplay() {}

    public static void main(String[] args) throws Exception {
        Instant from = Instant.MIN;
        Instant to = Instant.MAX;
        Set<String> reasons = Set.of();
        boolean dryRun = false;
        List<String> jobArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--from":
                    from = instant(args, ++i, "--from");
                    break;
                case "--to":
                    to = instant(args, ++i, "--to");
                    break;
                case "--reason":
                    reasons = new HashSet<>(Arrays.asList(value(args, ++i, "--reason").split(",")));
                    break;
                case "--dry-run":
                    dryRun = true;
                    break;
                default:
                    jobArgs.add(args[i]);
            }
        }
        BridgeConfig config = JobCommandLine.parse(jobArgs.toArray(new String[0]), System.getenv(), System.out);
        if (config == null) {
            return;
        }
        Result r = replay(config, from, to, reasons, dryRun);
        System.out.println("replay" + (dryRun ? " (dry run: nothing published or acknowledged)" : "") + ": read " + r.read
                + " DLQ records, " + (dryRun ? "would re-publish " : "re-published ") + r.replayed + ", "
                + (dryRun ? "would acknowledge " : "acknowledged ") + r.repeats + " repeats of an event already replayed, left " + r.skipped
                + " (not selected) for a later run; selected by reason: " + r.byReason
                + (r.failed.get() > 0 ? "; " + r.failed.get() + " could not be re-published and stay in the DLQ" : ""));
        if (r.failed.get() > 0) {
            System.exit(1);
        }
    }

    /** Counts of one replay. */
    public static final class Result {
        public long read;
        public long replayed;
        public long skipped;
        /**
         * Selected records identical (identity and bytes) to one already re-published in this run (a
         * DLQ write a restart repeated): acknowledged, not re-published.
         */
        public long repeats;
        /** Selected but not stored on the main topic: left in the DLQ for a later run. */
        public final java.util.concurrent.atomic.AtomicLong failed = new java.util.concurrent.atomic.AtomicLong();
        public final Map<String, Long> byReason = new TreeMap<>();
    }

    /**
     * Replays from the DLQ of the job configured by {@code config} to its topic.
     *
     * @param dryRun count what would be replayed; publish, clear and acknowledge nothing
     */
    public static Result replay(BridgeConfig config, Instant from, Instant to, Set<String> reasons, boolean dryRun) throws Exception {
        List<String> topics = config.get(BridgeOptions.TOPIC);
        if (!config.get(BridgeOptions.PULSAR_TOPIC_PATTERN).isEmpty() || topics.size() != 1) {
            throw new ConfigException("the replay publishes to one topic: set 'topic' to exactly one (got " + topics
                    + (config.get(BridgeOptions.PULSAR_TOPIC_PATTERN).isEmpty() ? "" : " and a topic pattern") + ")");
        }
        CeleryEnvelopeCodec codec = CeleryBridgeJob.codec(config);
        io.lettuce.core.RedisClient valkey = CeleryBridgeJob.valkey(config).createClient();
        try (io.lettuce.core.api.StatefulRedisConnection<String, String> marks = valkey.connect()) {
            // A dead letter's mark would send its replay straight back to the DLQ: cleared first.
            java.util.function.Consumer<String> clearMark = identity -> DeadLetterMarks.clear(marks.sync(), codec, identity);
            return replay(CeleryBridgeJob.pulsarConnection(config), config.dlqTopic(), config.get(BridgeOptions.DLQ_SUBSCRIPTION),
                    topics.get(0), from, to, reasons, dryRun, clearMark);
        } finally {
            valkey.shutdown();
        }
    }

    private static Result replay(PulsarConnection pulsar, String dlqTopic, String subscription, String topic,
            Instant from, Instant to, Set<String> reasons, boolean dryRun,
            java.util.function.Consumer<String> clearMark) throws Exception {
        Result result = new Result();
        long startedAt = System.currentTimeMillis();
        try (PulsarClient client = pulsar.client();
                // Exclusive: two replays at once would each publish what the other has not acknowledged yet.
                Consumer<byte[]> dlq = client.newConsumer(Schema.BYTES).topic(dlqTopic).subscriptionName(subscription)
                        .subscriptionType(SubscriptionType.Exclusive)
                        .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
                Producer<byte[]> producer = dryRun ? null : client.newProducer(Schema.BYTES).topic(topic)
                        .blockIfQueueFull(true).create()) {
            List<java.util.concurrent.CompletableFuture<Void>> acks = new ArrayList<>();
            Map<String, byte[]> replayedEvents = new HashMap<>(); // identity -> SHA-256 of the bytes re-published
            Message<byte[]> m;
            while ((m = dlq.receive(IDLE_SECONDS, TimeUnit.SECONDS)) != null && m.getPublishTime() <= startedAt) {
                result.read++;
                if (!selected(m, from, to, reasons)) {
                    result.skipped++;
                    continue; // unacknowledged: it stays in the subscription
                }
                Message<byte[]> record = m;
                String identity = identity(record);
                // Only a byte-identical copy is a repeat: another payload under the same id goes too.
                byte[] digest = identity == null ? null : java.security.MessageDigest.getInstance("SHA-256").digest(record.getData());
                if (identity != null && java.util.Arrays.equals(replayedEvents.putIfAbsent(identity, digest), digest)) {
                    result.repeats++;
                    if (!dryRun) {
                        acks.add(dlq.acknowledgeAsync(record.getMessageId()));
                    }
                    continue;
                }
                result.replayed++;
                result.byReason.merge(String.valueOf(m.getProperty(ToDeadLetter.REASON)), 1L, Long::sum);
                if (dryRun) {
                    continue;
                }
                if (identity != null) {
                    clearMark.accept(identity);
                }
                acks.add(copyOf(record, producer, identity).sendAsync().thenCompose(stored -> dlq.acknowledgeAsync(record.getMessageId()))
                        .exceptionally(e -> {
                            result.failed.incrementAndGet();
                            System.err.println("replay: could not re-publish " + record.getMessageId() + " (left in the DLQ): " + e);
                            return null;
                        }));
            }
            if (producer != null) {
                producer.flush();
            }
            // Every acknowledgement sent before the consumer closes.
            java.util.concurrent.CompletableFuture.allOf(acks.toArray(new java.util.concurrent.CompletableFuture[0])).join();
        }
        return result;
    }

    private static TypedMessageBuilder<byte[]> copyOf(Message<byte[]> m, Producer<byte[]> producer, String identity) {
        Map<String, String> properties = new HashMap<>();
        m.getProperties().forEach((k, v) -> {
            if (!k.startsWith(ToDeadLetter.PREFIX)) {
                properties.put(k, v);
            }
        });
        properties.put(REPLAYED_FROM, m.getMessageId().toString());
        if (identity != null) {
            properties.put(DecodeEvents.REPLAY_OF, identity);
        }
        TypedMessageBuilder<byte[]> out = producer.newMessage().value(m.getData()).properties(properties);
        if (m.hasKey()) {
            out.key(m.getKey());
        }
        if (m.getEventTime() > 0) {
            out.eventTime(m.getEventTime());
        }
        return out;
    }

    /** The identity the event had in its first life: its event id, else its first message's. */
    static String identity(Message<byte[]> m) {
        String eventId = m.getProperty(ToDeadLetter.EVENT_ID);
        if (eventId != null && !eventId.isEmpty()) {
            return eventId;
        }
        String topic = m.getProperty(ToDeadLetter.SOURCE_TOPIC);
        String messageId = m.getProperty(ToDeadLetter.SOURCE_MESSAGE_ID);
        return topic != null && messageId != null ? IdempotencyKeys.ofMessage(topic, messageId) : null;
    }

    private static boolean selected(Message<byte[]> m, Instant from, Instant to, Set<String> reasons) {
        if (!reasons.isEmpty() && !reasons.contains(m.getProperty(ToDeadLetter.REASON))) {
            return false;
        }
        String last = m.getProperty(ToDeadLetter.LAST_FAILURE);
        Instant failed = last != null ? Instant.parse(last) : Instant.ofEpochMilli(m.getPublishTime());
        return !failed.isBefore(from) && failed.isBefore(to);
    }

    private static Instant instant(String[] args, int i, String flag) {
        String v = value(args, i, flag);
        try {
            return Instant.parse(v);
        } catch (java.time.format.DateTimeParseException e) {
            throw new ConfigException(flag + " '" + v + "': expected an ISO-8601 instant such as 2026-11-28T00:00:00Z");
        }
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new ConfigException(flag + " needs a value");
        }
        return args[i];
    }
}
