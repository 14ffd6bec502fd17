package io.celerybridge.connectors.celery.internal;

import io.celerybridge.connectors.celery.CeleryEncodingException;
import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.celery.CeleryTask;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.sink2.SinkWriter;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Pipelines one LPUSH per task (auto-flush off) and waits for Valkey's replies whenever the
 * in-flight bound is reached and on every {@link #flush}, which Flink calls before a checkpoint:
 * at-least-once.
 */
@Internal
public final class CelerySinkWriter implements SinkWriter<CeleryTask> {

    private static final long REPLY_TIMEOUT_SECONDS = 60;

    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final RedisAsyncCommands<String, String> commands;
    private final CeleryEnvelopeCodec codec;
    private final int maxInFlight;
    private final List<RedisFuture<Long>> inFlight = new ArrayList<>();

    public CelerySinkWriter(RedisClient client, CeleryEnvelopeCodec codec, int maxInFlight) {
        this.client = client;
        this.connection = client.connect();
        this.connection.setAutoFlushCommands(false);
        this.commands = connection.async();
        this.codec = codec;
        this.maxInFlight = maxInFlight;
    }

    @Override
    public void write(CeleryTask task, Context context) throws IOException, InterruptedException {
        String envelope;
        try {
            envelope = codec.encode(task);
        } catch (CeleryEncodingException e) {
            throw new IOException("task " + task.id() + " cannot be encoded: " + e.getMessage(), e);
        }
        inFlight.add(commands.lpush(codec.listKey(task), envelope));
        if (inFlight.size() >= maxInFlight) {
            awaitInFlight();
        }
    }

    @Override
    public void flush(boolean endOfInput) throws IOException, InterruptedException {
        awaitInFlight();
    }

    private void awaitInFlight() throws IOException, InterruptedException {
        if (inFlight.isEmpty()) {
            return;
        }
        connection.flushCommands();
        try {
            for (RedisFuture<Long> f : inFlight) {
                f.get(REPLY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
        } catch (ExecutionException e) {
            throw new IOException("Valkey rejected an enqueue: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("Valkey did not answer an enqueue within " + REPLY_TIMEOUT_SECONDS + " s", e);
        }
        inFlight.clear();
    }

    @Override
    public void close() {
        try {
            connection.close();
        } finally {
            client.shutdown();
        }
    }
}
