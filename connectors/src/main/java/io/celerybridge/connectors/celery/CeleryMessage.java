package io.celerybridge.connectors.celery;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.util.Objects;

/**
 * An encoded task, ready for the atomic enqueue: the envelope, the list it goes to, the queue
 * whose depth bounds it, and the dedup key marked with it. What {@link CelerySink} consumes.
 */
@PublicEvolving
public final class CeleryMessage implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String taskId;
    private final String dedupKey;
    private final String queueKey;
    private final String listKey;
    private final String envelope;
    private final long sourceTimestamp;

    public CeleryMessage(String taskId, String dedupKey, String queueKey, String listKey, String envelope) {
        this(taskId, dedupKey, queueKey, listKey, envelope, 0);
    }

    /** @param sourceTimestamp when what became this task was published (epoch ms), 0 if unknown */
    public CeleryMessage(String taskId, String dedupKey, String queueKey, String listKey, String envelope, long sourceTimestamp) {
        this.taskId = Objects.requireNonNull(taskId, "taskId");
        this.dedupKey = Objects.requireNonNull(dedupKey, "dedupKey");
        this.queueKey = Objects.requireNonNull(queueKey, "queueKey");
        this.listKey = Objects.requireNonNull(listKey, "listKey");
        this.envelope = Objects.requireNonNull(envelope, "envelope");
        this.sourceTimestamp = sourceTimestamp;
    }

    /** Epoch milliseconds the source published it, 0 if unknown: the sink's end-to-end latency. */
    public long sourceTimestamp() {
        return sourceTimestamp;
    }

    public CeleryMessage withSourceTimestamp(long epochMillis) {
        return new CeleryMessage(taskId, dedupKey, queueKey, listKey, envelope, epochMillis);
    }

    public String taskId() {
        return taskId;
    }

    /** Set with NX and the dedup TTL in the same script that pushes the envelope. */
    public String dedupKey() {
        return dedupKey;
    }

    /** The queue's base list key (priority 0-2); its depth is summed over its priority lists. */
    public String queueKey() {
        return queueKey;
    }

    /** The list the envelope is pushed to (the queue, or one of its priority buckets). */
    public String listKey() {
        return listKey;
    }

    /** The kombu Redis-transport envelope, pure ASCII JSON. */
    public String envelope() {
        return envelope;
    }

    /** Bytes it takes in a buffer or on the wire (keys + envelope; all ASCII but the keys). */
    public long sizeInBytes() {
        return envelope.length() + 2L * (dedupKey.length() + listKey.length()) + queueKey.length() + taskId.length();
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof CeleryMessage)) {
            return false;
        }
        CeleryMessage m = (CeleryMessage) o;
        return taskId.equals(m.taskId) && dedupKey.equals(m.dedupKey) && queueKey.equals(m.queueKey)
                && listKey.equals(m.listKey) && envelope.equals(m.envelope);
    }

    @Override
    public int hashCode() {
        return Objects.hash(taskId, dedupKey);
    }

    @Override
    public String toString() {
        return "CeleryMessage{taskId=" + taskId + ", listKey=" + listKey.replace("\u0006\u0016", "\\x06\\x16") + "}";
    }
}
