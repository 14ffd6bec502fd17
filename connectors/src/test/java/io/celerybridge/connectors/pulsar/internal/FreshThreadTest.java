package io.celerybridge.connectors.pulsar.internal;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FreshThreadTest {

    @Test
    void returnsTheResultFromAnotherThread() throws Exception {
        String caller = Thread.currentThread().getName();
        assertThat(FreshThread.call(() -> Thread.currentThread().getName(), "fresh")).isEqualTo("fresh").isNotEqualTo(caller);
    }

    @Test
    void rethrowsTheWorksException() {
        assertThatThrownBy(() -> FreshThread.call(() -> {
            throw new IOException("broken");
        }, "fresh")).isInstanceOf(IOException.class).hasMessage("broken");
    }

    /** A close stuck forever (a dead client) must not keep its thread, and with it the job's class loader. */
    @Test
    void interruptsTheThreadPastTheTimeout() throws Exception {
        AtomicReference<Thread> worker = new AtomicReference<>();
        CountDownLatch interrupted = new CountDownLatch(1);
        assertThatThrownBy(() -> FreshThread.call(() -> {
            worker.set(Thread.currentThread());
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
            return null;
        }, "stuck", Duration.ofMillis(200))).isInstanceOf(TimeoutException.class);
        assertThat(interrupted.await(10, TimeUnit.SECONDS)).as("the stuck thread was interrupted").isTrue();
        worker.get().join(10_000);
        assertThat(worker.get().isAlive()).isFalse();
    }
}
