package io.celerybridge.job.internal;

import io.celerybridge.connectors.pulsar.DeadLetter;
import io.celerybridge.connectors.pulsar.PulsarRecord;

import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A rejected record becomes a DLQ record: the original bytes, key and properties unchanged, plus
 * {@code celery-bridge.*} properties saying what failed, where and when. Counted per reason; logged
 * without the payload.
 */
public class ToDeadLetter extends RichMapFunction<RejectedRecord, DeadLetter> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ToDeadLetter.class);

    public static final String PREFIX = "celery-bridge.";
    public static final String REASON = PREFIX + "reason";
    public static final String ERROR = PREFIX + "error";
    public static final String STAGE = PREFIX + "stage";
    public static final String ATTEMPTS = PREFIX + "attempts";
    public static final String SOURCE_TOPIC = PREFIX + "source-topic";
    public static final String SOURCE_MESSAGE_ID = PREFIX + "source-message-id";
    public static final String EVENT_ID = PREFIX + "event-id";
    public static final String FIRST_FAILURE = PREFIX + "first-failure";
    public static final String LAST_FAILURE = PREFIX + "last-failure";

    static final int MAX_ERROR_CHARS = 1000;

    private transient MetricGroup metrics;
    private transient Map<String, Counter> byReason;

    @Override
    public void open(Configuration parameters) {
        metrics = getRuntimeContext().getMetricGroup().addGroup("dlq");
        byReason = new ConcurrentHashMap<>();
    }

    @Override
    public DeadLetter map(RejectedRecord rejected) {
        PulsarRecord record = rejected.getRecord();
        Map<String, String> properties = new HashMap<>(record.getProperties());
        String now = Instant.now().toString();
        properties.put(REASON, rejected.getReason());
        properties.put(ERROR, sanitize(rejected.getMessage()));
        properties.put(STAGE, rejected.getStage());
        properties.put(ATTEMPTS, Integer.toString(Math.max(1, rejected.getAttempts())));
        properties.put(SOURCE_TOPIC, String.valueOf(record.getTopic()));
        properties.put(SOURCE_MESSAGE_ID, String.valueOf(record.getMessageId()));
        if (rejected.getEventId() != null) {
            properties.put(EVENT_ID, rejected.getEventId());
        }
        properties.put(FIRST_FAILURE, rejected.getFirstFailure() != null ? rejected.getFirstFailure() : now);
        properties.put(LAST_FAILURE, now);
        byReason.computeIfAbsent(rejected.getReason(), r -> metrics.addGroup("reason", r).counter("records")).inc();
        // The event id goes into the MDC so JSON log lines carry it as a field; the payload is never logged.
        try (MDC.MDCCloseable ignored = MDC.putCloseable("eventId", String.valueOf(rejected.getEventId()))) {
            LOG.warn("dead-lettering record: stage={} reason={} topic={} messageId={}",
                    rejected.getStage(), rejected.getReason(), record.getTopic(), record.getMessageId());
        }
        return new DeadLetter(record.getPayload(), record.getKey(), record.getEventTime(), properties);
    }

    /** Bounded, one line, no control characters: error texts can quote user input. */
    static String sanitize(String message) {
        if (message == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder(Math.min(message.length(), MAX_ERROR_CHARS));
        for (int i = 0; i < message.length() && sb.length() < MAX_ERROR_CHARS; i++) {
            char c = message.charAt(i);
            sb.append(Character.isISOControl(c) ? ' ' : c);
        }
        return sb.toString();
    }
}
