package io.celerybridge.connectors.celery.internal;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class IdempotencyKeyProjectionTest {

    private final AtomicLong now = new AtomicLong(Duration.ofHours(1).toNanos());

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    /** 200 keys/s for a minute, each kept an hour: 720,000 live keys per writer. */
    private void steadyMinute(IdempotencyKeyProjection projection) {
        for (int s = 0; s < 60; s++) {
            projection.record(200);
            advance(Duration.ofSeconds(1));
        }
    }

    @Test
    void projectsTheRateOfTheLastMinuteOverTheTtl() {
        IdempotencyKeyProjection projection = new IdempotencyKeyProjection(Duration.ofHours(1), 0, 1, now::get);
        assertThat(projection.getValue()).as("nothing measured yet").isZero();
        steadyMinute(projection);
        assertThat(projection.getValue()).isEqualTo(720_000L);
        // The rate halves: within a minute the projection follows.
        for (int s = 0; s < 60; s++) {
            projection.record(100);
            advance(Duration.ofSeconds(1));
        }
        assertThat(projection.getValue()).isEqualTo(360_000L);
        advance(Duration.ofMinutes(2));
        assertThat(projection.getValue()).as("no keys written for two minutes").isZero();
    }

    @Test
    void aShortBurstAtStartIsNotTakenForAMinutesRate() {
        IdempotencyKeyProjection projection = new IdempotencyKeyProjection(Duration.ofHours(1), 0, 1, now::get);
        projection.record(1_000);
        assertThat(projection.getValue()).as("no complete five-second bucket yet").isZero();
        advance(Duration.ofSeconds(5));
        assertThat(projection.getValue()).as("1,000 keys over the five seconds measured, not over a minute")
                .isEqualTo(200L * 3600);
    }

    @Test
    void warnsWhenAllWritersTogetherOutgrowTheBudgetAtMostEveryTenMinutes() {
        // Two writers at 720,000 each: 1,440,000 against a budget of 1,000,000.
        IdempotencyKeyProjection projection = new IdempotencyKeyProjection(Duration.ofHours(1), 1_000_000, 2, now::get);
        steadyMinute(projection);
        assertThat(projection.overBudget()).hasValue(1_440_000L);
        steadyMinute(projection);
        assertThat(projection.overBudget()).as("warned a minute ago").isEmpty();
        for (int m = 0; m < 9; m++) {
            steadyMinute(projection);
        }
        assertThat(projection.overBudget()).as("ten minutes later, still over").hasValue(1_440_000L);
    }

    @Test
    void neverWarnsWithinTheBudgetOrWithoutOne() {
        IdempotencyKeyProjection within = new IdempotencyKeyProjection(Duration.ofHours(1), 1_500_000, 2, now::get);
        IdempotencyKeyProjection unknown = new IdempotencyKeyProjection(Duration.ofHours(1), 0, 2, now::get);
        for (int s = 0; s < 60; s++) {
            within.record(200);
            unknown.record(200);
            advance(Duration.ofSeconds(1));
        }
        assertThat(within.overBudget()).isEmpty();
        assertThat(unknown.overBudget()).isEmpty();
    }
}
