package io.celerybridge.connectors.celery.internal;

import org.apache.flink.annotation.Internal;

import java.io.Serializable;
import java.time.Duration;

/** The sink's enqueue settings, validated by the builder and shipped to each writer. */
@Internal
public final class EnqueueOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    public final Duration dedupTtl;
    public final long maxQueueDepth;
    public final int messagesPerScript;
    public final Duration initialBackoff;
    public final Duration maxBackoff;
    public final Duration queueFullPollInterval;
    /** Replicas that must acknowledge each enqueue call (WAIT, or WAITAOF's replicas); 0: none. */
    public final int waitReplicas;
    /** Whether each enqueue call waits for the primary's append-only file fsync (WAITAOF 1). */
    public final boolean waitLocalAof;
    /** How long one WAIT/WAITAOF waits for its acknowledgements. */
    public final Duration waitTimeout;
    /** How many idempotency keys Valkey can hold (from its maxmemory); 0: unknown. */
    public final long idempotencyKeyBudget;
    /** Re-encodes batch tasks without members found already enqueued; null if the job sends no batch tasks. */
    public final io.celerybridge.connectors.celery.CeleryEnvelopeCodec codec;

    public EnqueueOptions(
            Duration dedupTtl,
            long maxQueueDepth,
            int messagesPerScript,
            Duration initialBackoff,
            Duration maxBackoff,
            Duration queueFullPollInterval,
            io.celerybridge.connectors.celery.CeleryEnvelopeCodec codec,
            int waitReplicas,
            boolean waitLocalAof,
            Duration waitTimeout,
            long idempotencyKeyBudget) {
        this.dedupTtl = dedupTtl;
        this.maxQueueDepth = maxQueueDepth;
        this.messagesPerScript = messagesPerScript;
        this.initialBackoff = initialBackoff;
        this.maxBackoff = maxBackoff;
        this.queueFullPollInterval = queueFullPollInterval;
        this.codec = codec;
        this.waitReplicas = waitReplicas;
        this.waitLocalAof = waitLocalAof;
        this.waitTimeout = waitTimeout;
        this.idempotencyKeyBudget = idempotencyKeyBudget;
    }

    /** True if each enqueue call waits for acknowledgements before it counts as done. */
    public boolean waitsForDurability() {
        return waitReplicas > 0 || waitLocalAof;
    }

    /** Exponential backoff with +-20% jitter for the n-th consecutive failure (n >= 1). */
    public long backoffMillis(int n, double random) {
        double base = initialBackoff.toMillis() * Math.pow(2, Math.min(n - 1, 20));
        double capped = Math.min(base, maxBackoff.toMillis());
        return Math.max(1, Math.round(capped * (0.8 + 0.4 * random)));
    }
}
