package io.celerybridge.bench;

import io.celerybridge.connectors.celery.internal.IdempotentEnqueueScript;

/** Prints the sink's enqueue script, so valkey-benchmark can run the same server-side work. */
public final class PrintEnqueueScript {

    private PrintEnqueueScript() {}

    public static void main(String[] args) {
        System.out.print(IdempotentEnqueueScript.SOURCE);
    }
}
