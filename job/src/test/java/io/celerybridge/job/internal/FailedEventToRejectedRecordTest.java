package io.celerybridge.job.internal;

import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.FailedEvent;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class FailedEventToRejectedRecordTest {

    /** Both used to be lost: the record said event time 0, and its first failure was the time it was written. */
    @Test
    void theDeadLetterCarriesTheEventTimeAndTheFirstFailure() {
        Event event = new Event("e-1", "{\"id\": \"e-1\"}", 1_000L)
                .withSource("persistent://public/default/in", "1:2:-1", "k", 42_000L, Map.of("origin", "test"));
        long firstFailedAt = Instant.parse("2026-12-05T10:00:00Z").toEpochMilli();
        RejectedRecord r = new FailedEventToRejectedRecord().map(new FailedEvent(event, "RETRIES_EXHAUSTED", "gave up", 4, firstFailedAt));
        assertThat(r.getRecord().getEventTime()).isEqualTo(42_000L);
        assertThat(r.getRecord().getPublishTime()).isEqualTo(1_000L);
        assertThat(r.getRecord().getProperties()).containsEntry("origin", "test");
        assertThat(r.getFirstFailure()).isEqualTo("2026-12-05T10:00:00Z");
        assertThat(r.getAttempts()).isEqualTo(4);
        assertThat(new FailedEventToRejectedRecord().map(new FailedEvent(event, "BAD", "no", 1)).getFirstFailure())
                .as("unknown: the DLQ writer uses the time it writes").isNull();
    }
}
