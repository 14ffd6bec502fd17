package io.celerybridge.udfs.runtime;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TaskRateLimiterTest {

    private static final long MS = 1_000_000L;

    @Test
    void eachSubtaskGetsItsShareOfTheWindowPerTaskName() {
        TaskRateLimiter limiter = new TaskRateLimiter(100, 1_000, 2); // 50 per second per subtask
        long t = 0;
        for (int i = 0; i < 50; i++) {
            assertThat(limiter.reserve("a", t)).isZero();
        }
        assertThat(limiter.reserve("a", t)).isEqualTo(20 * MS); // the 51st waits 1/50 s
        assertThat(limiter.reserve("b", t)).as("another task name has its own bucket").isZero();
        assertThat(limiter.reserve("a", t + 1_000 * MS)).isZero(); // refilled
    }

    @Test
    void aShareBelowOnePerWindowStillLetsTasksThroughSlowly() {
        TaskRateLimiter limiter = new TaskRateLimiter(1, 1_000, 4); // a quarter per second
        assertThat(limiter.reserve("a", 0)).isZero();
        assertThat(limiter.reserve("a", 0)).isEqualTo(4_000 * MS);
    }

    /** The stage's clock is the wall clock: stepping it back must not put a bucket into debt. */
    @Test
    void aClockSteppedBackDoesNotStallTheBucket() {
        TaskRateLimiter limiter = new TaskRateLimiter(10, 1_000, 1);
        long t = 3_600_000 * MS;
        assertThat(limiter.reserve("a", t)).isZero();
        assertThat(limiter.reserve("a", t - 60_000 * MS)).as("a minute back: no debt for that minute").isZero();
    }

    /** A restart used to start with full buckets: a fresh burst above the limit. */
    @Test
    void aRestoreStartsFromWhatTheBucketsHeldNotAFreshBurst() {
        TaskRateLimiter before = new TaskRateLimiter(10, 1_000, 1);
        for (int i = 0; i < 10; i++) {
            before.reserve("a", 0);
        }
        java.util.List<RateLimitTokens> saved = before.tokens(0, 5_000);
        TaskRateLimiter after = new TaskRateLimiter(10, 1_000, 1);
        after.restore(saved, 5_000, 777 * MS);
        assertThat(after.reserve("a", 777 * MS)).as("the burst was spent before the restart").isEqualTo(100 * MS);
        assertThat(new TaskRateLimiter(10, 1_000, 1).reserve("a", 0)).as("without the state: a fresh burst").isZero();

        TaskRateLimiter later = new TaskRateLimiter(10, 1_000, 1);
        later.restore(saved, 5_500, 0);
        for (int i = 0; i < 5; i++) {
            assertThat(later.reserve("a", 0)).as("half a window later, half the burst is back").isZero();
        }
        assertThat(later.reserve("a", 0)).isPositive();
    }

    @Test
    void aRescaleKeepsTheJobWideTokens() {
        // Two subtasks with 3 tokens each (limit 10: 5 each) become one subtask with 6.
        java.util.List<RateLimitTokens> saved = new java.util.ArrayList<>();
        for (int subtask = 0; subtask < 2; subtask++) {
            TaskRateLimiter old = new TaskRateLimiter(10, 1_000, 2);
            old.reserve("a", 0);
            old.reserve("a", 0);
            saved.addAll(old.tokens(0, 1_000));
        }
        TaskRateLimiter one = new TaskRateLimiter(10, 1_000, 1);
        one.restore(saved, 1_000, 0);
        for (int i = 0; i < 6; i++) {
            assertThat(one.reserve("a", 0)).isZero();
        }
        assertThat(one.reserve("a", 0)).isPositive();
    }
}
