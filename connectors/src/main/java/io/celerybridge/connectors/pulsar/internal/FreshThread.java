package io.celerybridge.connectors.pulsar.internal;

import org.apache.flink.annotation.Internal;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs Pulsar-client work on a short-lived thread, for calls Flink makes on long-lived JobManager
 * threads: netty's thread-locals (classes of the job's class loader) leave with the thread.
 */
@Internal
final class FreshThread {

    private FreshThread() {}

    static <T> T call(Callable<T> work, String name) throws Exception {
        return call(work, name, null);
    }

    /**
     * Like {@link #call(Callable, String)}, but waits at most {@code timeout}, then interrupts the
     * thread (a thread left waiting forever keeps the job's class loader) and throws a
     * {@link TimeoutException}. The caller being interrupted interrupts the thread too.
     */
    static <T> T call(Callable<T> work, String name, Duration timeout) throws Exception {
        FutureTask<T> task = new FutureTask<>(work);
        Thread thread = new Thread(task, name);
        thread.setContextClassLoader(Thread.currentThread().getContextClassLoader());
        thread.setDaemon(true);
        thread.start();
        try {
            return timeout == null ? task.get() : task.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception) {
                throw (Exception) cause;
            }
            throw (Error) cause;
        } catch (TimeoutException | InterruptedException e) {
            thread.interrupt();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw e;
        }
    }
}
