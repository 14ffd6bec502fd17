package io.celerybridge.connectors.pulsar;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.connector.pulsar.common.config.PulsarOptions;
import org.apache.flink.connector.pulsar.source.PulsarSource;
import org.apache.flink.connector.pulsar.source.PulsarSourceBuilder;
import org.apache.flink.connector.pulsar.source.PulsarSourceOptions;
import org.apache.flink.connector.pulsar.source.enumerator.cursor.StartCursor;

import io.celerybridge.connectors.pulsar.internal.SubscriptionStartCursor;

import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminBuilder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds the source of raw {@link PulsarRecord}s, restored batch-safely ({@link BatchSafePulsarSource}).
 *
 * <pre>{@code
 * BatchSafePulsarSource<PulsarRecord> source = new PulsarRecordSourceBuilder()
 *     .serviceUrl("pulsar://127.0.0.1:6650").adminUrl("http://127.0.0.1:8080")
 *     .topics(List.of("persistent://public/default/events")).subscription("celery-bridge")
 *     .build();
 * }</pre>
 *
 * Defaults: start position {@code subscription}; partition discovery every
 * {@link #DEFAULT_PARTITION_DISCOVERY_INTERVAL}; fetches held at most {@link #DEFAULT_MAX_FETCH_TIME}; no authentication; TLS as the URL scheme says
 * ({@code pulsar+ssl://}, {@code https://}).
 */
@PublicEvolving
public final class PulsarRecordSourceBuilder {

    public static final Duration DEFAULT_PARTITION_DISCOVERY_INTERVAL = Duration.ofSeconds(30);
    /**
     * The connector's own default (10 s) lets one fetch wait until 100 messages arrived or the
     * time ran out, so on a quiet topic an event could sit in the reader for 10 s.
     */
    public static final Duration DEFAULT_MAX_FETCH_TIME = Duration.ofMillis(20);
    public static final String TOKEN_AUTH_PLUGIN = "org.apache.pulsar.client.impl.auth.AuthenticationToken";

    private String serviceUrl;
    private String adminUrl;
    private List<String> topics = new ArrayList<>();
    private String topicPattern;
    private String subscription;
    private StartPosition startPosition = StartPosition.subscription();
    private String authToken;
    private String tlsTrustCertsFile;
    private boolean tlsAllowInsecure;
    private Duration partitionDiscoveryInterval = DEFAULT_PARTITION_DISCOVERY_INTERVAL;
    private Duration maxFetchTime = DEFAULT_MAX_FETCH_TIME;

    public PulsarRecordSourceBuilder serviceUrl(String serviceUrl) {
        this.serviceUrl = serviceUrl;
        return this;
    }

    public PulsarRecordSourceBuilder adminUrl(String adminUrl) {
        this.adminUrl = adminUrl;
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

    /** A JWT for Pulsar's token authentication; never logged. */
    public PulsarRecordSourceBuilder authToken(String token) {
        this.authToken = token;
        return this;
    }

    public PulsarRecordSourceBuilder tlsTrustCertsFile(String path) {
        this.tlsTrustCertsFile = path;
        return this;
    }

    public PulsarRecordSourceBuilder tlsAllowInsecure(boolean allow) {
        this.tlsAllowInsecure = allow;
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
        require(serviceUrl, "serviceUrl");
        require(adminUrl, "adminUrl");
        require(subscription, "subscription");
        if (topics.isEmpty() == (topicPattern == null)) {
            throw new IllegalArgumentException("Pulsar source: set exactly one of topics and topicPattern");
        }
        PulsarSourceBuilder<PulsarRecord> b = PulsarSource.<PulsarRecord>builder()
                .setServiceUrl(serviceUrl)
                .setAdminUrl(adminUrl)
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
                String url = adminUrl;
                String token = authToken;
                String trust = tlsTrustCertsFile;
                boolean insecure = tlsAllowInsecure;
                b.setStartCursor(new SubscriptionStartCursor(() -> admin(url, token, trust, insecure), subscription));
                break;
            case EARLIEST:
                b.setStartCursor(StartCursor.earliest());
                break;
            case LATEST:
                b.setStartCursor(StartCursor.latest());
                break;
            default:
                b.setStartCursor(StartCursor.fromPublishTime(startPosition.publishTime().toEpochMilli()));
        }
        if (authToken != null && !authToken.isEmpty()) {
            b.setAuthentication(TOKEN_AUTH_PLUGIN, tokenAuthParams(authToken));
        }
        if (tlsTrustCertsFile != null) {
            b.setConfig(PulsarOptions.PULSAR_TLS_TRUST_CERTS_FILE_PATH, tlsTrustCertsFile);
        }
        if (tlsAllowInsecure) {
            b.setConfig(PulsarOptions.PULSAR_TLS_ALLOW_INSECURE_CONNECTION, true);
        }
        return new BatchSafePulsarSource<>(b.build());
    }

    private static PulsarAdmin admin(String url, String token, String trustCerts, boolean insecure) {
        try {
            PulsarAdminBuilder b = PulsarAdmin.builder().serviceHttpUrl(url).allowTlsInsecureConnection(insecure);
            if (token != null && !token.isEmpty()) {
                b.authentication(TOKEN_AUTH_PLUGIN, tokenAuthParams(token));
            }
            if (trustCerts != null) {
                b.tlsTrustCertsFilePath(trustCerts);
            }
            return b.build();
        } catch (Exception e) {
            throw new IllegalStateException("cannot create a Pulsar admin client for " + url + ": " + e.getMessage(), e);
        }
    }

    /** AuthenticationToken's encoded parameters; its Map form leaves the token unset (seen with client 3.0). */
    public static String tokenAuthParams(String token) {
        return "token:" + token;
    }

    private static void require(String value, String option) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("Pulsar source: " + option + " is required");
        }
    }
}
