package io.celerybridge.connectors.celery;

import io.celerybridge.connectors.celery.internal.CelerySinkWriter;
import io.celerybridge.connectors.valkey.ValkeyClientProvider;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;

import java.util.Objects;

/**
 * Enqueues {@link CeleryTask}s into a Valkey (Redis-protocol) Celery broker, in the message
 * format of kombu's Redis transport, so stock Celery workers execute them.
 *
 * <p>Writes are pipelined; buffered writes are flushed and acknowledged by Valkey before a
 * checkpoint completes, so nothing is lost on restore.
 *
 * <pre>{@code
 * CelerySink sink = CelerySink.builder()
 *     .setClientProvider(ValkeyClientProvider.forUri("redis://127.0.0.1:6379/0"))
 *     .build();
 * }</pre>
 *
 * Defaults: {@link #DEFAULT_MAX_IN_FLIGHT} writes in flight per subtask; origin
 * {@code celery-bridge@<host>}.
 */
@PublicEvolving
public final class CelerySink implements Sink<CeleryTask> {
    private static final long serialVersionUID = 1L;

    public static final int DEFAULT_MAX_IN_FLIGHT = 1000;

    private final ValkeyClientProvider clientProvider;
    private final CeleryEnvelopeCodec codec;
    private final int maxInFlight;

    private CelerySink(ValkeyClientProvider clientProvider, CeleryEnvelopeCodec codec, int maxInFlight) {
        this.clientProvider = clientProvider;
        this.codec = codec;
        this.maxInFlight = maxInFlight;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    @SuppressWarnings("deprecation") // the WriterInitContext overload delegates here in Flink 1.20
    public SinkWriter<CeleryTask> createWriter(InitContext context) {
        return new CelerySinkWriter(clientProvider.createClient(), codec, maxInFlight);
    }

    /** Builder for {@link CelerySink}; the client provider is required. */
    public static final class Builder {
        private ValkeyClientProvider clientProvider;
        private String origin;
        private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;

        private Builder() {}

        public Builder setClientProvider(ValkeyClientProvider clientProvider) {
            this.clientProvider = clientProvider;
            return this;
        }

        /** The {@code origin} header workers log; default {@code celery-bridge@<host>}. */
        public Builder setOrigin(String origin) {
            this.origin = origin;
            return this;
        }

        public Builder setMaxInFlight(int maxInFlight) {
            this.maxInFlight = maxInFlight;
            return this;
        }

        public CelerySink build() {
            Objects.requireNonNull(clientProvider, "CelerySink: clientProvider is required");
            if (maxInFlight < 1) {
                throw new IllegalArgumentException("CelerySink: maxInFlight must be >= 1, got " + maxInFlight);
            }
            String o = origin != null ? origin : "celery-bridge@" + localHostName();
            return new CelerySink(clientProvider, new CeleryEnvelopeCodec(o), maxInFlight);
        }

        private static String localHostName() {
            try {
                return java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.net.UnknownHostException e) {
                return "unknown";
            }
        }
    }
}
