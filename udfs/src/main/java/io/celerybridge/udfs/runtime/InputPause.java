package io.celerybridge.udfs.runtime;

import org.apache.flink.annotation.PublicEvolving;

import javax.annotation.Nullable;

import java.io.Serializable;

/**
 * How {@link BatchUdfOperator} stops its input while its buffer is full without blocking the task
 * thread, which would hold back checkpoint barriers for as long as the dependency is down. The job
 * passes one that reaches the source chained before the stage; without it (or in a task without
 * such a source) the stage backpressures the blocking way.
 */
@PublicEvolving
@FunctionalInterface
public interface InputPause extends Serializable {
    /** No pausable input: a full buffer backpressures by blocking. */
    InputPause NONE = () -> null;

    /** Called on the task thread: the switch of this task's input, or null when it has none. */
    @Nullable
    Switch ofCurrentTask();

    /** Pauses and resumes the input of one task. */
    interface Switch {
        void pause();

        void resume();
    }
}
