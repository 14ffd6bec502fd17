package io.celerybridge.connectors.celery.internal;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;

/** One case per error kind: is it retried (empty) or does it fail the job (a reason)? */
class ValkeyErrorClassifierTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "LOADING Valkey is loading the dataset in memory",
        "READONLY You can't write against a read only replica.",
        "BUSY Valkey is busy running a script.",
        "OOM command not allowed when used memory > 'maxmemory'.",
        "TRYAGAIN Multiple keys request during rehashing of slot",
        "MASTERDOWN Link with MASTER is down",
        "NOSCRIPT No matching script. Please use EVAL."})
    void serverRepliesThatPassAreRetried(String reply) {
        assertThat(ValkeyErrorClassifier.fatalReason(new RedisCommandExecutionException(reply))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "NOAUTH Authentication required.",
        "WRONGPASS invalid username-password pair or user is disabled.",
        "NOPERM User bridge has no permissions to run the 'evalsha' command",
        "WRONGTYPE Operation against a key holding the wrong kind of value",
        "ERR unknown command 'EVALSHA'",
        "ERR Error running script (call to f_x): @user_script:1: oops",
        "CROSSSLOT Keys in request don't hash to the same slot",
        "MOVED 3999 127.0.0.1:6381",
        "ERR something nobody expected"})
    void serverRepliesThatWillNotPassFailTheJob(String reply) {
        assertThat(ValkeyErrorClassifier.fatalReason(new RedisCommandExecutionException(reply))).isPresent();
    }

    @Test
    void connectionLossAndTimeoutsAreRetried() {
        assertThat(ValkeyErrorClassifier.fatalReason(new RedisConnectionException("Unable to connect"))).isEmpty();
        assertThat(ValkeyErrorClassifier.fatalReason(new RedisCommandTimeoutException("Command timed out"))).isEmpty();
        assertThat(ValkeyErrorClassifier.fatalReason(new RedisException("Connection closed"))).isEmpty();
        assertThat(ValkeyErrorClassifier.fatalReason(new CompletionException(new IOException("Connection reset by peer")))).isEmpty();
    }

    @Test
    void wrappedServerRepliesAreFoundInTheCauseChain() {
        assertThat(ValkeyErrorClassifier.fatalReason(
                new CompletionException(new RedisCommandExecutionException("WRONGPASS invalid")))).hasValueSatisfying(
                reason -> assertThat(reason).contains("credentials"));
        assertThat(ValkeyErrorClassifier.isNoScript(
                new CompletionException(new RedisCommandExecutionException("NOSCRIPT No matching script")))).isTrue();
    }

    @Test
    void programmingErrorsFailTheJob() {
        assertThat(ValkeyErrorClassifier.fatalReason(new NullPointerException("x"))).isPresent();
    }
}
