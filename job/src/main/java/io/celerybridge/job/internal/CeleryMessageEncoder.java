package io.celerybridge.job.internal;

import io.celerybridge.udfs.DeadLetterReason;
import io.celerybridge.connectors.celery.CeleryEncodingException;
import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.celery.CeleryMessage;
import io.celerybridge.connectors.celery.CeleryTask;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.TaskEncoder;
import io.celerybridge.udfs.TaskRejectedException;

/**
 * Encodes a task as the Celery message the sink enqueues; a task no stock worker could run, or
 * larger than the sink takes, is rejected with its reason (so it is dead-lettered, never a
 * failure of the sink that would stop the job on every restart).
 */
public class CeleryMessageEncoder implements TaskEncoder<CeleryMessage> {
    private static final long serialVersionUID = 1L;

    public static final String UNENCODABLE_TASK = DeadLetterReason.UNENCODABLE_TASK.name();
    public static final String TASK_TOO_LARGE = DeadLetterReason.TASK_TOO_LARGE.name();

    /**
     * Most an envelope's bytes grow per payload character, with the room a sink buffer takes per
     * message: Python's ensure_ascii writes {@code é} as six bytes, base64 makes them eight, and a
     * batch task is held twice (its members are kept to re-encode it).
     */
    static final int MAX_BYTES_PER_PAYLOAD_CHAR = 16;

    private final CeleryEnvelopeCodec codec;
    private final long maxTaskBytes;

    /** @param maxTaskBytes the sink's record limit: a larger message is rejected (TASK_TOO_LARGE) */
    public CeleryMessageEncoder(CeleryEnvelopeCodec codec, long maxTaskBytes) {
        this.codec = codec;
        this.maxTaskBytes = maxTaskBytes;
    }

    /** Payload characters a batch task may carry so that its message is within {@code maxTaskBytes} whatever the text. */
    public static int payloadCharsWithin(long maxTaskBytes) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (maxTaskBytes - 64 * 1024) / MAX_BYTES_PER_PAYLOAD_CHAR));
    }

    @Override
    public CeleryMessage encode(CeleryTask task, Event source) throws TaskRejectedException {
        CeleryMessage m;
        try {
            m = codec.toMessage(task);
        } catch (CeleryEncodingException e) {
            throw new TaskRejectedException(UNENCODABLE_TASK, e.getMessage());
        }
        if (m.sizeInBytes() > maxTaskBytes) {
            throw new TaskRejectedException(TASK_TOO_LARGE, "task " + task.name() + " is " + m.sizeInBytes()
                    + " bytes encoded (envelope and keys), more than celery.max_task_bytes (" + maxTaskBytes + ")");
        }
        return m.withSourceTimestamp(source.getPublishTime());
    }
}
