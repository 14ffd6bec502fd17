package io.celerybridge.udfs;

import io.celerybridge.connectors.celery.CeleryTask;

import org.apache.flink.annotation.PublicEvolving;

import java.util.List;
import java.util.Objects;

/**
 * What became of one event: the task(s) to enqueue, a transient failure (retried with backoff),
 * or a permanent failure (dead-lettered with its reason).
 */
@PublicEvolving
public final class UdfResult {

    /** Outcome kinds. */
    public enum Kind { TASKS, RETRY, FAIL }

    private final Kind kind;
    private final List<CeleryTask> tasks;
    private final String reason;
    private final String detail;

    private UdfResult(Kind kind, List<CeleryTask> tasks, String reason, String detail) {
        this.kind = kind;
        this.tasks = tasks;
        this.reason = reason;
        this.detail = detail;
    }

    /** The event becomes these tasks (at least one: an event never vanishes silently). */
    public static UdfResult tasks(CeleryTask... tasks) {
        return tasks(List.of(tasks));
    }

    public static UdfResult tasks(List<CeleryTask> tasks) {
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("an event must become at least one task; use fail(reason, detail) to drop it");
        }
        return new UdfResult(Kind.TASKS, List.copyOf(tasks), null, null);
    }

    /** Try this event again later: a dependency was unavailable, say. */
    public static UdfResult retry(String detail) {
        return new UdfResult(Kind.RETRY, List.of(), null, Objects.requireNonNull(detail, "detail"));
    }

    /**
     * Never succeeds: the event goes to the dead-letter topic.
     *
     * @param reason a stable code, UPPER_SNAKE_CASE (it becomes a metric label)
     * @param detail what was wrong, for a human
     */
    public static UdfResult fail(String reason, String detail) {
        if (!reason.matches("[A-Z][A-Z0-9_]{0,63}")) {
            throw new IllegalArgumentException("reason must be UPPER_SNAKE_CASE, at most 64 characters: '" + reason + "'");
        }
        return new UdfResult(Kind.FAIL, List.of(), reason, Objects.requireNonNull(detail, "detail"));
    }

    public Kind kind() {
        return kind;
    }

    public List<CeleryTask> tasks() {
        return tasks;
    }

    /** The reason code of a permanent failure, else null. */
    public String reason() {
        return reason;
    }

    /** What went wrong (RETRY, FAIL), else null. */
    public String detail() {
        return detail;
    }

    @Override
    public String toString() {
        return kind == Kind.TASKS ? "tasks" + tasks : kind + "(" + (reason == null ? "" : reason + ": ") + detail + ")";
    }
}
