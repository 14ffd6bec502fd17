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
    // A batch task's members (see CeleryTask#batchOf): their dedup keys, and what it takes to
    // re-encode the batch without the members found done. Empty/null for a plain task.
    private final java.util.List<String> memberDedupKeys;
    private final CeleryTask batchTask;

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
        this.memberDedupKeys = new java.util.ArrayList<>(0); // not List.of: Kryo cannot rebuild JDK-internal lists
        this.batchTask = null;
    }

    /** A batch task's message: its members are marked with it, each by its own key. */
    CeleryMessage(CeleryMessage plain, java.util.List<String> memberDedupKeys, CeleryTask batchTask) {
        this.taskId = plain.taskId;
        this.dedupKey = plain.dedupKey;
        this.queueKey = plain.queueKey;
        this.listKey = plain.listKey;
        this.envelope = plain.envelope;
        this.sourceTimestamp = plain.sourceTimestamp;
        this.memberDedupKeys = new java.util.ArrayList<>(memberDedupKeys);
        this.batchTask = batchTask;
    }

    /** The dedup keys of a batch task's members; empty for a plain task. */
    public java.util.List<String> memberDedupKeys() {
        return java.util.Collections.unmodifiableList(memberDedupKeys);
    }

    /** How many dedup keys enqueueing this message sets: one per batch member, else one. */
    public int dedupKeyCount() {
        return Math.max(1, memberDedupKeys.size());
    }

    /** The batch task this message encodes, or null for a plain task. */
    public CeleryTask batchTask() {
        return batchTask;
    }

    /** Rebuilds a message read from state. */
    public CeleryMessage withBatch(java.util.List<String> memberDedupKeys, CeleryTask batchTask) {
        return new CeleryMessage(this, memberDedupKeys, batchTask);
    }

    /**
     * This batch re-encoded without the members whose dedup keys are in {@code done} (found already
     * enqueued by another task); null if none is left.
     */
    public CeleryMessage withoutMembers(CeleryEnvelopeCodec codec, java.util.Set<String> done) {
        java.util.Set<String> doneKeys = new java.util.HashSet<>();
        for (int i = 0; i < memberDedupKeys.size(); i++) {
            if (done.contains(memberDedupKeys.get(i))) {
                doneKeys.add(batchTask.memberKeys().get(i));
            }
        }
        CeleryTask rest = batchTask.withoutMembers(doneKeys);
        if (rest == null) {
            return null;
        }
        try {
            return codec.toMessage(rest).withSourceTimestamp(sourceTimestamp);
        } catch (CeleryEncodingException e) {
            throw new IllegalStateException("a subset of an encodable batch could not be encoded", e);
        }
    }

    /** Epoch milliseconds the source published it, 0 if unknown: the sink's end-to-end latency. */
    public long sourceTimestamp() {
        return sourceTimestamp;
    }

    public CeleryMessage withSourceTimestamp(long epochMillis) {
        CeleryMessage m = new CeleryMessage(taskId, dedupKey, queueKey, listKey, envelope, epochMillis);
        return batchTask == null ? m : new CeleryMessage(m, memberDedupKeys, batchTask);
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
        long members = 0;
        for (String k : memberDedupKeys) {
            members += 2L * k.length();
        }
        return envelope.length() + 2L * (dedupKey.length() + listKey.length()) + queueKey.length() + taskId.length()
                + members + (batchTask == null ? 0 : envelope.length()); // a batch also holds its members to re-encode
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
                && listKey.equals(m.listKey) && envelope.equals(m.envelope) && memberDedupKeys.equals(m.memberDedupKeys);
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
