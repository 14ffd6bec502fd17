package io.celerybridge.connectors.pulsar.internal;

import org.apache.flink.annotation.Internal;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Runs Pulsar-client work on a short-lived thread, for calls Flink makes on long-lived JobManager
 * threads: netty's thread-locals (classes of the job's class loader) leave with the thread.
 */
@Internal
final class FreshThread {

    private FreshThread() {}

    static <T> T call(Callable<T> work, String name) throws Exception {
        FutureTask<T> task = new FutureTask<>(work);
        Thread thread = new Thread(task, name);
        thread.setContextClassLoader(Thread.currentThread().getContextClassLoader());
        thread.setDaemon(true);
        thread.start();
        try {
            return task.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception) {
                throw (Exception) cause;
            }
            throw (Error) cause;
        }
    }
}
