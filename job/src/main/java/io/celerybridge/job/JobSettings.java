package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.udfs.decode.EventDecoder;

import org.apache.flink.api.java.utils.ParameterTool;

import java.io.Serializable;
import java.time.Duration;

/**
 * The walking skeleton's settings, from {@code --key value} arguments. Every key has a default
 * suited to the local stack that {@code dev/stack.sh} starts.
 */
public final class JobSettings implements Serializable {
    private static final long serialVersionUID = 1L;

    final String pulsarServiceUrl;
    final String pulsarAdminUrl;
    final String topic;
    final String dlqTopic;
    final String subscription;
    final String valkeyUri;
    final String celeryTask;
    final String celeryQueue;
    final String eventIdPointer;
    final Duration checkpointInterval;
    final Duration dedupTtl;
    final long maxQueueDepth;
    final int dedupCapacity;
    final Duration dedupTimeout;
    final int dedupNearCacheSize;

    private JobSettings(ParameterTool p) {
        this.pulsarServiceUrl = p.get("pulsar.service-url", "pulsar://127.0.0.1:6650");
        this.pulsarAdminUrl = p.get("pulsar.admin-url", "http://127.0.0.1:8080");
        this.topic = p.get("topic", "persistent://public/default/celery-bridge-events");
        this.dlqTopic = p.get("dlq-topic", topic + "-dlq");
        this.subscription = p.get("subscription", "celery-bridge");
        this.valkeyUri = p.get("valkey.uri", "redis://127.0.0.1:6379/0");
        this.celeryTask = p.get("celery.task", "celery_bridge.process_event");
        this.celeryQueue = p.get("celery.queue", "celery");
        this.eventIdPointer = p.get("event-id-pointer", EventDecoder.DEFAULT_ID_POINTER);
        this.checkpointInterval = Duration.ofMillis(p.getLong("checkpoint-interval-ms", 5000));
        this.dedupTtl = Duration.ofSeconds(p.getLong("cache-ttl-s", 86_400));
        this.maxQueueDepth = p.getLong("celery.max-queue-depth", 100_000);
        this.dedupCapacity = p.getInt("dedup.capacity", 200);
        this.dedupTimeout = Duration.ofMillis(p.getLong("dedup.timeout-ms", 5_000));
        this.dedupNearCacheSize = p.getInt("dedup.near-cache-size", 10_000);
        if (checkpointInterval.toMillis() < 10) {
            throw new IllegalArgumentException("--checkpoint-interval-ms must be >= 10, got " + checkpointInterval.toMillis());
        }
    }

    CeleryEnvelopeCodec codec() {
        return CeleryEnvelopeCodec.builder().build();
    }

    public static JobSettings fromArgs(String... args) {
        return new JobSettings(ParameterTool.fromArgs(args));
    }
}
