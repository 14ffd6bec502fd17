package io.celerybridge.connectors.celery;

import org.apache.flink.annotation.PublicEvolving;

/** A task that cannot become a Celery message a stock worker survives; the record goes to the DLQ. */
@PublicEvolving
public class CeleryEncodingException extends Exception {
    private static final long serialVersionUID = 1L;

    public CeleryEncodingException(String message) {
        super(message);
    }
}
