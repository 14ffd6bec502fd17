package io.celerybridge.connectors.celery;

import io.celerybridge.connectors.celery.internal.CeleryMessageStateSerializer;
import io.celerybridge.connectors.celery.internal.CelerySinkWriter;
import io.celerybridge.connectors.celery.internal.EnqueueOptions;
import io.celerybridge.connectors.valkey.ValkeyClientProvider;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.connector.base.sink.AsyncSinkBase;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.connector.base.sink.writer.ElementConverter;
import org.apache.flink.connector.base.sink.writer.config.AsyncSinkWriterConfiguration;
import org.apache.flink.connector.base.sink.writer.strategy.AIMDScalingStrategy;
import org.apache.flink.connector.base.sink.writer.strategy.CongestionControlRateLimitingStrategy;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.api.connector.sink2.StatefulSink.StatefulSinkWriter;

import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.Objects;

/**
 * Enqueues {@link CeleryMessage}s (tasks encoded by {@link CeleryEnvelopeCodec}) into a Valkey
 * Celery broker so stock Celery workers execute them. Each message is marked done and enqueued
 * in ONE atomic server-side step (see {@code IdempotentEnqueueScript}): replays after a crash or
 * a restore never enqueue a second task, and nothing is marked without being enqueued.
 *
 * <pre>{@code
 * CelerySink sink = CelerySink.builder()
 *     .setClientProvider(ValkeyClientProvider.forUri("redis://127.0.0.1:6379/0"))
 *     .setDedupTtl(Duration.ofHours(24))
 *     .setMaxQueueDepth(100_000)
 *     .build();
 * }</pre>
 *
 * <p>Defaults: dedup TTL {@link #DEFAULT_DEDUP_TTL}; no max queue depth; batches of
 * {@value #DEFAULT_MAX_BATCH_SIZE} messages or {@link #DEFAULT_MAX_TIME_IN_BUFFER}, carried
 * {@value #DEFAULT_MESSAGES_PER_SCRIPT} per script call; {@value #DEFAULT_MAX_IN_FLIGHT_REQUESTS}
 * batches in flight; {@value #DEFAULT_MAX_BUFFERED_REQUESTS} buffered; records up to
 * {@value #DEFAULT_MAX_RECORD_SIZE_BYTES} bytes; retries back off from
 * {@link #DEFAULT_INITIAL_BACKOFF} to {@link #DEFAULT_MAX_BACKOFF}.
 *
 * <p>The broker must be a single primary (with replicas or sentinel for failover): kombu has no
 * Redis Cluster support, and the script's keys (dedup keys and queues) would not share a slot.
 */
@PublicEvolving
public final class CelerySink extends AsyncSinkBase<CeleryMessage, CeleryMessage> {
    private static final long serialVersionUID = 2L;

    public static final Duration DEFAULT_DEDUP_TTL = Duration.ofHours(24);
    public static final int DEFAULT_MAX_BATCH_SIZE = 1000;
    public static final int DEFAULT_MESSAGES_PER_SCRIPT = 100;
    public static final int DEFAULT_MAX_IN_FLIGHT_REQUESTS = 8;
    public static final int DEFAULT_MAX_BUFFERED_REQUESTS = 20_000;
    public static final long DEFAULT_MAX_BATCH_SIZE_BYTES = 16L * 1024 * 1024;
    public static final long DEFAULT_MAX_RECORD_SIZE_BYTES = 4L * 1024 * 1024;
    public static final Duration DEFAULT_MAX_TIME_IN_BUFFER = Duration.ofMillis(20);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofMinutes(2);
    public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(100);
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(5);
    public static final Duration DEFAULT_QUEUE_FULL_POLL_INTERVAL = Duration.ofMillis(250);
    public static final Duration DEFAULT_WAIT_TIMEOUT = Duration.ofSeconds(1);

    private final ValkeyClientProvider clientProvider;
    private final EnqueueOptions options;

    private CelerySink(Builder b) {
        super(
                (ElementConverter<CeleryMessage, CeleryMessage>) (message, context) -> message,
                b.maxBatchSize,
                b.maxInFlightRequests,
                b.maxBufferedRequests,
                b.maxBatchSizeInBytes,
                b.maxTimeInBuffer.toMillis(),
                b.maxRecordSizeInBytes,
                b.requestTimeout.toMillis(),
                false); // a timed-out batch is retried; the script makes the retry safe
        this.clientProvider = b.clientProvider;
        this.options = new EnqueueOptions(b.dedupTtl, b.maxQueueDepth, b.messagesPerScript,
                b.initialBackoff, b.maxBackoff, b.queueFullPollInterval, b.codec, b.waitReplicas, b.waitLocalAof, b.waitTimeout,
                b.idempotencyKeyBudget);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    @SuppressWarnings("deprecation") // Flink 1.20 routes WriterInitContext here
    public StatefulSinkWriter<CeleryMessage, BufferedRequestState<CeleryMessage>> createWriter(InitContext context) {
        return restoreWriter(context, Collections.emptyList());
    }

    @Override
    @SuppressWarnings("deprecation")
    public StatefulSinkWriter<CeleryMessage, BufferedRequestState<CeleryMessage>> restoreWriter(
            InitContext context, Collection<BufferedRequestState<CeleryMessage>> recoveredState) {
        AsyncSinkWriterConfiguration configuration = AsyncSinkWriterConfiguration.builder()
                .setMaxBatchSize(getMaxBatchSize())
                .setMaxBatchSizeInBytes(getMaxBatchSizeInBytes())
                .setMaxInFlightRequests(getMaxInFlightRequests())
                .setMaxBufferedRequests(getMaxBufferedRequests())
                .setMaxTimeInBufferMS(getMaxTimeInBufferMS())
                .setMaxRecordSizeInBytes(getMaxRecordSizeInBytes())
                .setRequestTimeoutMS(getRequestTimeoutMS())
                .setFailOnTimeout(getFailOnTimeout())
                .setRateLimitingStrategy(rateLimitingStrategy(getMaxBatchSize(), getMaxInFlightRequests()))
                .build();
        return new CelerySinkWriter(getElementConverter(), context, configuration, recoveredState, clientProvider, options);
    }

    /**
     * Flink's default starts a writer with ONE batch in flight and adds 10 messages per completed
     * request, a slow ramp after every restart. Start with every allowed request in flight
     * instead; failures still halve the window (AIMD).
     */
    static CongestionControlRateLimitingStrategy rateLimitingStrategy(int maxBatchSize, int maxInFlightRequests) {
        int window = maxBatchSize * maxInFlightRequests;
        return CongestionControlRateLimitingStrategy.builder()
                .setMaxInFlightRequests(maxInFlightRequests)
                .setInitialMaxInFlightMessages(window)
                .setScalingStrategy(AIMDScalingStrategy.builder(window).setIncreaseRate(maxBatchSize).build())
                .build();
    }

    @Override
    public SimpleVersionedSerializer<BufferedRequestState<CeleryMessage>> getWriterStateSerializer() {
        return new CeleryMessageStateSerializer();
    }

    /** Builder for {@link CelerySink}; only the client provider is required. */
    public static final class Builder {
        private ValkeyClientProvider clientProvider;
        private Duration dedupTtl = DEFAULT_DEDUP_TTL;
        private long maxQueueDepth;
        private int maxBatchSize = DEFAULT_MAX_BATCH_SIZE;
        private int messagesPerScript = DEFAULT_MESSAGES_PER_SCRIPT;
        private int maxInFlightRequests = DEFAULT_MAX_IN_FLIGHT_REQUESTS;
        private int maxBufferedRequests = DEFAULT_MAX_BUFFERED_REQUESTS;
        private long maxBatchSizeInBytes = DEFAULT_MAX_BATCH_SIZE_BYTES;
        private long maxRecordSizeInBytes = DEFAULT_MAX_RECORD_SIZE_BYTES;
        private Duration maxTimeInBuffer = DEFAULT_MAX_TIME_IN_BUFFER;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
        private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
        private Duration queueFullPollInterval = DEFAULT_QUEUE_FULL_POLL_INTERVAL;
        private CeleryEnvelopeCodec codec;
        private int waitReplicas;
        private boolean waitLocalAof;
        private Duration waitTimeout = DEFAULT_WAIT_TIMEOUT;
        private long idempotencyKeyBudget;

        /**
         * The codec that encoded the messages: needed for batch tasks ({@link CeleryTask#batchOf}),
         * which the sink re-encodes without members another task already enqueued.
         */
        public Builder setCodec(CeleryEnvelopeCodec codec) {
            this.codec = codec;
            return this;
        }

        private Builder() {}

        /**
         * Makes each enqueue call count as done only once it survives what the user chose to survive:
         * {@code replicas} replicas acknowledged it (Valkey's {@code WAIT}), and with {@code localAof}
         * the primary's append-only file fsynced it ({@code WAITAOF 1 replicas}, Valkey 7.2+; then the
         * replicas' files too). Too few acknowledgements within {@code timeout} is a transient error:
         * the call is retried (the script makes that safe), never dead-lettered. Without this, a
         * checkpoint can cover enqueues that a failover to an asynchronous replica, or a crash
         * before the next fsync, then loses.
         */
        public Builder setDurability(int replicas, boolean localAof, Duration timeout) {
            if (replicas < 0) {
                throw new IllegalArgumentException("replicas must be >= 0, got " + replicas);
            }
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("the durability wait timeout must be positive (WAIT 0 waits forever), got " + timeout);
            }
            this.waitReplicas = replicas;
            this.waitLocalAof = localAof;
            this.waitTimeout = timeout;
            return this;
        }

        /**
         * How many idempotency keys Valkey can hold (its {@code maxmemory} over the bytes one key
         * takes): the writers log a warning when the keys their rate keeps alive for the dedup TTL
         * would not fit. Only a warning: at the limit, a {@code noeviction} server refuses writes and
         * the sink waits. 0 (the default): unknown, not checked.
         */
        public Builder setIdempotencyKeyBudget(long keys) {
            if (keys < 0) {
                throw new IllegalArgumentException("the idempotency key budget must be >= 0, got " + keys);
            }
            this.idempotencyKeyBudget = keys;
            return this;
        }

        public Builder setClientProvider(ValkeyClientProvider clientProvider) {
            this.clientProvider = clientProvider;
            return this;
        }

        /** How long an enqueued event's dedup key lives: replays within it never enqueue twice. */
        public Builder setDedupTtl(Duration dedupTtl) {
            this.dedupTtl = dedupTtl;
            return this;
        }

        /** Per queue, summed over its priority lists; at or above it the sink waits. 0 = no limit. */
        public Builder setMaxQueueDepth(long maxQueueDepth) {
            this.maxQueueDepth = maxQueueDepth;
            return this;
        }

        public Builder setMaxBatchSize(int maxBatchSize) {
            this.maxBatchSize = maxBatchSize;
            return this;
        }

        public Builder setMessagesPerScript(int messagesPerScript) {
            this.messagesPerScript = messagesPerScript;
            return this;
        }

        public Builder setMaxInFlightRequests(int maxInFlightRequests) {
            this.maxInFlightRequests = maxInFlightRequests;
            return this;
        }

        public Builder setMaxBufferedRequests(int maxBufferedRequests) {
            this.maxBufferedRequests = maxBufferedRequests;
            return this;
        }

        public Builder setMaxBatchSizeInBytes(long maxBatchSizeInBytes) {
            this.maxBatchSizeInBytes = maxBatchSizeInBytes;
            return this;
        }

        public Builder setMaxRecordSizeInBytes(long maxRecordSizeInBytes) {
            this.maxRecordSizeInBytes = maxRecordSizeInBytes;
            return this;
        }

        public Builder setMaxTimeInBuffer(Duration maxTimeInBuffer) {
            this.maxTimeInBuffer = maxTimeInBuffer;
            return this;
        }

        public Builder setRequestTimeout(Duration requestTimeout) {
            this.requestTimeout = requestTimeout;
            return this;
        }

        public Builder setRetryBackoff(Duration initial, Duration max) {
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }

        public Builder setQueueFullPollInterval(Duration interval) {
            this.queueFullPollInterval = interval;
            return this;
        }

        public CelerySink build() {
            Objects.requireNonNull(clientProvider, "CelerySink: clientProvider is required");
            positive("dedupTtl", dedupTtl.getSeconds());
            if (maxQueueDepth < 0) {
                throw new IllegalArgumentException("CelerySink: maxQueueDepth must be >= 0 (0 = no limit), got " + maxQueueDepth);
            }
            positive("maxBatchSize", maxBatchSize);
            positive("messagesPerScript", messagesPerScript);
            if (messagesPerScript > io.celerybridge.connectors.celery.internal.IdempotentEnqueueScript.MAX_MESSAGES_PER_CALL) {
                throw new IllegalArgumentException("CelerySink: messagesPerScript must be <= "
                        + io.celerybridge.connectors.celery.internal.IdempotentEnqueueScript.MAX_MESSAGES_PER_CALL + ", got " + messagesPerScript);
            }
            positive("maxInFlightRequests", maxInFlightRequests);
            if (maxBufferedRequests <= maxBatchSize) {
                throw new IllegalArgumentException("CelerySink: maxBufferedRequests (" + maxBufferedRequests
                        + ") must be greater than maxBatchSize (" + maxBatchSize + ")");
            }
            positive("maxBatchSizeInBytes", maxBatchSizeInBytes);
            positive("maxRecordSizeInBytes", maxRecordSizeInBytes);
            positive("maxTimeInBuffer", maxTimeInBuffer.toMillis());
            positive("requestTimeout", requestTimeout.toMillis());
            if ((waitReplicas > 0 || waitLocalAof) && waitTimeout.compareTo(requestTimeout) >= 0) {
                throw new IllegalArgumentException("CelerySink: the durability wait timeout (" + waitTimeout
                        + ") must be shorter than requestTimeout (" + requestTimeout + ")");
            }
            positive("initialBackoff", initialBackoff.toMillis());
            if (maxBackoff.compareTo(initialBackoff) < 0) {
                throw new IllegalArgumentException("CelerySink: maxBackoff (" + maxBackoff + ") must be >= initialBackoff (" + initialBackoff + ")");
            }
            positive("queueFullPollInterval", queueFullPollInterval.toMillis());
            return new CelerySink(this);
        }

        private static void positive(String option, long value) {
            if (value <= 0) {
                throw new IllegalArgumentException("CelerySink: " + option + " must be positive, got " + value);
            }
        }
    }
}
