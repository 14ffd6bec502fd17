package io.celerybridge.job.internal;

import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.valkey.KeyAbsentFilter;
import io.celerybridge.connectors.valkey.MarkIfAbsent;
import io.celerybridge.udfs.Event;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;

/**
 * One decision per event: the mark an event's identity gets in Valkey says what became of it. The
 * Celery sink writes {@code 1} (enqueued) atomically with the task; a dead letter writes
 * {@value #PREFIX}{@code <reason>} before its DLQ record is written, unless a mark is there
 * already. So the first decision stands, even when a restart makes a time-dependent choice
 * (retries exhausted, a timeout, an ETA) come out the other way on the second reading:
 * <ul>
 *   <li>a dead letter for an event already enqueued is dropped (the task stands);
 *   <li>the idempotency check sends an event read again after a restart, and found dead-lettered,
 *       straight back to the DLQ with its reason (its record may not have reached Pulsar before
 *       the crash), never to processing;
 *   <li>a task that reaches the sink anyway (the lookup timed out, or a repeat raced its original)
 *       replaces the mark and is enqueued: at worst both, never neither.
 * </ul>
 * The replay tool clears a dead-letter mark before it re-publishes the record.
 */
public final class DeadLetterMarks {

    public static final String PREFIX = "dlq:";

    // Deletes the mark only if it is a dead letter's: an enqueued event's mark must stay.
    private static final String CLEAR = "local v = redis.call('GET', KEYS[1])\n"
            + "if v and string.sub(v, 1, 4) == 'dlq:' then redis.call('DEL', KEYS[1]) return 1 end\n"
            + "return 0\n";

    private DeadLetterMarks() {}

    /** The idempotency check's policy: an enqueued event is dropped, a dead-lettered one marked to go back to the DLQ. */
    public static KeyAbsentFilter.FoundPolicy<Event> foundPolicy() {
        return (event, value) -> {
            if (value.startsWith(PREFIX)) {
                event.setDeadLetteredAs(value.substring(PREFIX.length()));
                return event;
            }
            return null;
        };
    }

    /** Records a rejected record's decision unless its event has one; a record for an enqueued event stops here. */
    public static MarkIfAbsent.Marker<RejectedRecord> marker(CeleryEnvelopeCodec codec) {
        return new MarkIfAbsent.Marker<>() {
            private static final long serialVersionUID = 1L;

            @Override
            public String key(RejectedRecord r) {
                return codec.dedupKey(r.getEventId());
            }

            @Override
            public String value(RejectedRecord r) {
                return PREFIX + r.getReason();
            }
        };
    }

    /** A dead letter goes on unless its event was enqueued; a repeat of a dead letter goes on too (never lost). */
    public static MarkIfAbsent.Outcome<RejectedRecord> outcome() {
        return (record, previous) -> previous == null || previous.startsWith(PREFIX);
    }

    /** Removes an event's dead-letter mark, so its replay is processed; returns whether there was one. */
    public static boolean clear(RedisCommands<String, String> valkey, CeleryEnvelopeCodec codec, String identity) {
        Long cleared = valkey.eval(CLEAR, ScriptOutputType.INTEGER, codec.dedupKey(identity));
        return cleared != null && cleared == 1L;
    }
}
