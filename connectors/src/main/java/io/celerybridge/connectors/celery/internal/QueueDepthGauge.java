package io.celerybridge.connectors.celery.internal;

import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;

import org.apache.flink.annotation.Internal;
import org.apache.flink.metrics.Gauge;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The Celery queue depth: LLEN summed over every priority list of the queues the sink writes to,
 * polled every few seconds on its own connection (the sink's pipeline connection is not shared).
 */
@Internal
final class QueueDepthGauge implements Gauge<Long>, AutoCloseable {

    private final RedisClient client;
    private final Set<String> queues = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService timer;
    private volatile StatefulRedisConnection<String, String> connection;
    private volatile long depth;

    /** Polls on a thread of its own: a blocked LLEN during an outage must not delay the sink's retries. */
    QueueDepthGauge(RedisClient client) {
        this.client = client;
        this.timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "celery-queue-depth");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::poll, 1, 5, TimeUnit.SECONDS);
    }

    void watch(String queueKey) {
        queues.add(queueKey);
    }

    private void poll() {
        try {
            if (connection == null) {
                connection = client.connect();
            }
            long sum = 0;
            for (String q : queues) {
                for (String list : CeleryEnvelopeCodec.priorityListKeys(q)) {
                    sum += connection.sync().llen(list);
                }
            }
            depth = sum;
        } catch (RuntimeException e) {
            // An outage shows in the sink's error metrics; the gauge keeps its last value.
        }
    }

    @Override
    public Long getValue() {
        return depth;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        if (connection != null) {
            connection.close();
        }
    }
}
