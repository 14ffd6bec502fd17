package io.celerybridge.connectors.source;

import io.celerybridge.connectors.source.internal.PausableSourceReader;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.connector.source.SourceReader;

import java.util.concurrent.CompletableFuture;

/**
 * Lets an operator chained after a source stop that source without blocking the task thread.
 *
 * <p>An operator that holds events (a buffer waiting on a slow dependency) can only backpressure by
 * not returning from {@code processElement}; while it does, the task runs no mail, so checkpoint
 * barriers wait and checkpoints expire. When the source is in the same task, the operator can
 * instead pause it and return: the source's reader reports nothing available, the task goes on
 * running mails (timers, checkpoints), and the operator resumes it once it has room.
 *
 * <p>One per task thread: a reader wrapped with {@link #wrap} registers it while it is created, on
 * the task thread; an operator of the same task finds it with {@link #ofCurrentThread()}. An
 * operator in another task (not chained) finds none and must backpressure the blocking way.
 */
@PublicEvolving
public final class SourcePause {
    private static final ThreadLocal<SourcePause> OF_THREAD = new ThreadLocal<>();

    private CompletableFuture<Void> resumed; // null while not paused

    private SourcePause() {
    }

    /** Wraps {@code reader} so that it honours the pause of the current (task) thread. Call it in {@code createReader}. */
    public static <T, S extends org.apache.flink.api.connector.source.SourceSplit> SourceReader<T, S> wrap(SourceReader<T, S> reader) {
        SourcePause pause = new SourcePause();
        OF_THREAD.set(pause);
        return new PausableSourceReader<>(reader, pause, () -> {
            if (OF_THREAD.get() == pause) {
                OF_THREAD.remove();
            }
        });
    }

    /** The pause of the source read by this thread's task, or null when the task has no such source. */
    public static SourcePause ofCurrentThread() {
        return OF_THREAD.get();
    }

    /** The source emits nothing more until {@link #resume()}. */
    public void pause() {
        if (resumed == null) {
            resumed = new CompletableFuture<>();
        }
    }

    public void resume() {
        CompletableFuture<Void> r = resumed;
        if (r != null) {
            resumed = null;
            r.complete(null);
        }
    }

    public boolean isPaused() {
        return resumed != null;
    }

    /** Completes on {@link #resume()}; null while not paused. */
    public CompletableFuture<Void> resumed() {
        return resumed;
    }
}
