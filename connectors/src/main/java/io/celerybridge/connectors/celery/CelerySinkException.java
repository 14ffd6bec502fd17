package io.celerybridge.connectors.celery;

import org.apache.flink.annotation.PublicEvolving;

/** A Valkey error that retrying cannot mend; it fails the job, which restarts from its checkpoint. */
@PublicEvolving
public class CelerySinkException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CelerySinkException(String message, Throwable cause) {
        super(message, cause);
    }
}
