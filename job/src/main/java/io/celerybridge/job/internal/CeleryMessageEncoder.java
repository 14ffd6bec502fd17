package io.celerybridge.job.internal;

import io.celerybridge.connectors.celery.CeleryEncodingException;
import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.celery.CeleryMessage;
import io.celerybridge.connectors.celery.CeleryTask;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.TaskEncoder;
import io.celerybridge.udfs.TaskRejectedException;

/** Encodes a task as the Celery message the sink enqueues; a task no stock worker could run is rejected with its reason. */
public class CeleryMessageEncoder implements TaskEncoder<CeleryMessage> {
    private static final long serialVersionUID = 1L;

    public static final String UNENCODABLE_TASK = "UNENCODABLE_TASK";

    private final CeleryEnvelopeCodec codec;

    public CeleryMessageEncoder(CeleryEnvelopeCodec codec) {
        this.codec = codec;
    }

    @Override
    public CeleryMessage encode(CeleryTask task, Event source) throws TaskRejectedException {
        try {
            return codec.toMessage(task).withSourceTimestamp(source.getPublishTime());
        } catch (CeleryEncodingException e) {
            throw new TaskRejectedException(UNENCODABLE_TASK, e.getMessage());
        }
    }
}
