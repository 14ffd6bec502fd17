package io.celerybridge.connectors.pulsar;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.connector.pulsar.common.config.PulsarOptions;
import org.apache.flink.connector.pulsar.source.PulsarSource;
import org.apache.flink.connector.pulsar.source.PulsarSourceBuilder;
import org.apache.flink.connector.pulsar.source.PulsarSourceOptions;
import org.apache.flink.connector.pulsar.source.enumerator.cursor.StartCursor;

import io.celerybridge.connectors.pulsar.internal.SubscriptionStartCursor;


import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the source of raw {@link PulsarRecord}s, restored batch-safely ({@link BatchSafePulsarSource}).
 *
 * <pre>{@code
 * BatchSafePulsarSource<PulsarRecord> source = new PulsarRecordSourceBuilder()
 *     .connection(PulsarConnection.of("pulsar://127.0.0.1:6650", "http://127.0.0.1:8080"))
 *     .topics(List.of("persistent://public/default/events")).subscription("celery-bridge")
 *     .build();
 * }</pre>
 *
 * Defaults: start position {@code subscription}; partition discovery every
 * {@link #DEFAULT_PARTITION_DISCOVERY_INTERVAL}; fetches held at most {@link #DEFAULT_MAX_FETCH_TIME};
 * authentication and TLS as the {@link PulsarConnection} says.
 */
@PublicEvolving
public final class PulsarRecordSourceBuilder {

    public static final Duration DEFAULT_PARTITION_DISCOVERY_INTERVAL = Duration.ofSeconds(30);
    /**
     * The connector's own default (10 s) lets one fetch wait until 100 messages arrived or the
     * time ran out, so on a quiet topic an event could sit in the reader for 10 s.
     */
    public static final Duration DEFAULT_MAX_FETCH_TIME = Duration.ofMillis(20);

    private PulsarConnection connection;
    private List<String> topics = new ArrayList<>();
    private String topicPattern;
    private String subscription;
    private StartPosition startPosition = StartPosition.subscription();
    private Duration partitionDiscoveryInterval = DEFAULT_PARTITION_DISCOVERY_INTERVAL;
    private Duration maxFetchTime = DEFAULT_MAX_FETCH_TIME;

    public PulsarRecordSourceBuilder connection(PulsarConnection connection) {
        this.connection = connection;
        return this;
    }

    public PulsarRecordSourceBuilder topics(List<String> topics) {
        this.topics = new ArrayList<>(topics);
        return this;
    }

    /** A regular expression over full topic names, instead of a list. */
    public PulsarRecordSourceBuilder topicPattern(String topicPattern) {
        this.topicPattern = topicPattern;
        return this;
    }

    public PulsarRecordSourceBuilder subscription(String subscription) {
        this.subscription = subscription;
        return this;
    }

    public PulsarRecordSourceBuilder startPosition(StartPosition startPosition) {
        this.startPosition = startPosition;
        return this;
    }

    /** Zero turns discovery off (partitions are listed once at start). */
    public PulsarRecordSourceBuilder partitionDiscoveryInterval(Duration interval) {
        this.partitionDiscoveryInterval = interval;
        return this;
    }

    /** Longest one fetch holds the messages it has before handing them on (latency on quiet topics). */
    public PulsarRecordSourceBuilder maxFetchTime(Duration maxFetchTime) {
        if (maxFetchTime.isNegative() || maxFetchTime.isZero()) {
            throw new IllegalArgumentException("Pulsar source: maxFetchTime must be positive, got " + maxFetchTime);
        }
        this.maxFetchTime = maxFetchTime;
        return this;
    }

    public BatchSafePulsarSource<PulsarRecord> build() {
        return build(false);
    }

    /** A source that stops at the latest message present when it starts (replays, tests). */
    public BatchSafePulsarSource<PulsarRecord> buildBounded() {
        return build(true);
    }

    private BatchSafePulsarSource<PulsarRecord> build(boolean bounded) {
        if (connection == null) {
            throw new IllegalArgumentException("Pulsar source: connection is required");
        }
        require(subscription, "subscription");
        if (topics.isEmpty() == (topicPattern == null)) {
            throw new IllegalArgumentException("Pulsar source: set exactly one of topics and topicPattern");
        }
        PulsarSourceBuilder<PulsarRecord> b = PulsarSource.<PulsarRecord>builder()
                .setServiceUrl(connection.serviceUrl())
                .setAdminUrl(connection.adminUrl())
                .setSubscriptionName(subscription)
                .setDeserializationSchema(new PulsarRecordDeserializationSchema())
                .setConfig(PulsarSourceOptions.PULSAR_PARTITION_DISCOVERY_INTERVAL_MS,
                        partitionDiscoveryInterval.isZero() ? -1L : partitionDiscoveryInterval.toMillis())
                .setConfig(PulsarSourceOptions.PULSAR_MAX_FETCH_TIME, maxFetchTime.toMillis());
        if (bounded) {
            b.setBoundedStopCursor(org.apache.flink.connector.pulsar.source.enumerator.cursor.StopCursor.latest());
        }
        if (topicPattern != null) {
            b.setTopicPattern(topicPattern);
        } else {
            b.setTopics(topics);
        }
        switch (startPosition.kind()) {
            case SUBSCRIPTION:
                PulsarConnection c = connection;
                b.setStartCursor(new SubscriptionStartCursor(c::admin, subscription));
                break;
            case EARLIEST:
                b.setStartCursor(StartCursor.earliest());
                break;
            case LATEST:
                // Not StartCursor.latest(): a partition discovered later would be seeked to its end then.
                b.setStartCursor(StartCursor.fromPublishTime(System.currentTimeMillis()));
                break;
            default:
                b.setStartCursor(StartCursor.fromPublishTime(startPosition.publishTime().toEpochMilli()));
        }
        if (connection.authToken() != null) {
            b.setAuthentication(PulsarConnection.TOKEN_AUTH_PLUGIN, PulsarConnection.tokenAuthParams(connection.authToken()));
        }
        if (connection.tlsTrustCertsFile() != null) {
            b.setConfig(PulsarOptions.PULSAR_TLS_TRUST_CERTS_FILE_PATH, connection.tlsTrustCertsFile());
        }
        b.setConfig(PulsarOptions.PULSAR_TLS_ALLOW_INSECURE_CONNECTION, connection.tlsAllowInsecure());
        b.setConfig(PulsarOptions.PULSAR_TLS_HOSTNAME_VERIFICATION_ENABLE, connection.tlsHostnameVerification());
        return new BatchSafePulsarSource<>(b.build());
    }

    private static void require(String value, String option) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("Pulsar source: " + option + " is required");
        }
    }
}
