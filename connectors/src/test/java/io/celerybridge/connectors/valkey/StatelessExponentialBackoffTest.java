package io.celerybridge.connectors.valkey;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StatelessExponentialBackoffTest {

    @Test
    void delayDependsOnlyOnTheAttempt() {
        StatelessExponentialBackoff<String> s = new StatelessExponentialBackoff<>(5, 50, 300, KeyAbsentFilter::isTransient);
        assertThat(s.getBackoffTimeMillis(1)).isEqualTo(50);
        assertThat(s.getBackoffTimeMillis(2)).isEqualTo(100);
        assertThat(s.getBackoffTimeMillis(3)).isEqualTo(200);
        assertThat(s.getBackoffTimeMillis(4)).isEqualTo(300);
        assertThat(s.getBackoffTimeMillis(2)).as("no shared state between elements").isEqualTo(100);
        assertThat(s.canRetry(4)).isTrue();
        assertThat(s.canRetry(5)).isFalse();
    }

    @Test
    void retriesOutagesNotFatalReplies() {
        StatelessExponentialBackoff<String> s = new StatelessExponentialBackoff<>(5, 50, 300, KeyAbsentFilter::isTransient);
        var predicate = s.getRetryPredicate().exceptionPredicate().orElseThrow();
        assertThat(predicate.test(new RedisConnectionException("down"))).isTrue();
        assertThat(predicate.test(new RedisCommandExecutionException("NOPERM no"))).isFalse();
    }
}
