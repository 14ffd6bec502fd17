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
}
