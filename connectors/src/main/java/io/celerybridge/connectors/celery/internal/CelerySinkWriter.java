package io.celerybridge.connectors.celery.internal;

import io.celerybridge.connectors.celery.CeleryMessage;
import io.celerybridge.connectors.celery.CelerySinkException;
import io.celerybridge.connectors.valkey.ValkeyClientProvider;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.base.sink.writer.AsyncSinkWriter;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.connector.base.sink.writer.ElementConverter;
import org.apache.flink.connector.base.sink.writer.ResultHandler;
import org.apache.flink.connector.base.sink.writer.config.AsyncSinkWriterConfiguration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.ArrayOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.ProtocolKeyword;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Writes each batch of messages as pipelined EVALSHA calls of {@link IdempotentEnqueueScript}
 * (many messages per call, one flush per batch). Flink's AsyncSinkWriter does the batching by
 * count, bytes and time, bounds the requests in flight and keeps buffered messages in checkpoint
 * state. Transient errors and full queues hold the affected messages and retry them after a
 * delay, which backpressures the job; fatal errors fail it (see {@link ValkeyErrorClassifier}).
 */
@Internal
public final class CelerySinkWriter extends AsyncSinkWriter<CeleryMessage, CeleryMessage> {

    private static final Logger LOG = LoggerFactory.getLogger(CelerySinkWriter.class);

    private final EnqueueOptions options;
    private final RedisClient client;
    // Values (envelopes) go as bytes: encoding 1 KB strings char by char on lettuce's event loop
    // was the sink's bottleneck (profiled); envelopes are ASCII, so getBytes is an array copy.
    private static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
    // Valkey 7.2's WAITAOF, which lettuce has no method for.
    private static final ProtocolKeyword WAITAOF = new ProtocolKeyword() {
        private final byte[] bytes = "WAITAOF".getBytes(StandardCharsets.US_ASCII);

        @Override
        public byte[] getBytes() {
            return bytes;
        }

        @Override
        public String name() {
            return "WAITAOF";
        }
    };

    // Replaced after a READONLY reply (see reconnect); used by the mailbox thread only.
    private volatile StatefulRedisConnection<String, byte[]> connection;
    private RedisAsyncCommands<String, byte[]> commands;
    private volatile boolean reconnect;
    private final ScheduledExecutorService retryTimer;
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    private volatile boolean loadScript = true;

    private final Counter tasksEnqueued;
    private final Counter duplicatesSkipped;
    private final Counter batchesRebuilt;
    private final Counter transientErrors;
    private final Counter queueFullWaits;
    private final Counter notDurableWaits;
    private final Histogram batchSize;
    private final Histogram enqueueLatencyMs;
    private final Histogram endToEndLatencyMs;
    private final QueueDepthGauge queueDepth;
    private final IdempotencyKeyProjection keyProjection;

    @SuppressWarnings("deprecation") // Sink.InitContext: the context Flink 1.20 hands to createWriter
    public CelerySinkWriter(
            ElementConverter<CeleryMessage, CeleryMessage> converter,
            Sink.InitContext context,
            AsyncSinkWriterConfiguration configuration,
            Collection<BufferedRequestState<CeleryMessage>> states,
            ValkeyClientProvider clientProvider,
            EnqueueOptions options) {
        super(converter, context, configuration, states);
        this.options = options;
        this.client = clientProvider.createClient();
        // Commands in flight when a connection drops are written again on the new one (lettuce's
        // at-least-once), but with auto-flush off nothing sends them until our next flush, and no
        // next flush comes while every request in flight waits for them: after a failover they sat
        // until lettuce's 60 s command timeout. Flush as soon as the connection is back.
        this.client.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> handler, SocketAddress address) {
                StatefulRedisConnection<String, byte[]> current = connection;
                if (current != null && handler == current) {
                    current.flushCommands();
                }
            }
        });
        try {
            this.connection = client.connect(CODEC);
        } catch (RuntimeException e) {
            // A writer that fails here is never closed: its client's threads and buffers would
            // outlive the attempt, and every restart would add another.
            client.shutdown();
            throw e;
        }
        this.connection.setAutoFlushCommands(false);
        this.commands = connection.async();
        this.retryTimer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "celery-sink-retry-" + context.getSubtaskId());
            t.setDaemon(true);
            return t;
        });
        MetricGroup metrics = context.metricGroup();
        this.tasksEnqueued = metrics.counter("tasksEnqueued");
        this.duplicatesSkipped = metrics.counter("duplicatesSkippedAtEnqueue");
        this.batchesRebuilt = metrics.counter("batchTasksRebuilt");
        this.transientErrors = metrics.counter("enqueueTransientErrors");
        this.queueFullWaits = metrics.counter("queueFullWaits");
        this.notDurableWaits = metrics.counter("enqueueNotDurableRetries");
        this.batchSize = metrics.histogram("enqueueBatchSize", new DescriptiveStatisticsHistogram(1000));
        this.enqueueLatencyMs = metrics.histogram("enqueueLatencyMs", new DescriptiveStatisticsHistogram(1000));
        this.endToEndLatencyMs = metrics.histogram("endToEndLatencyMs", new DescriptiveStatisticsHistogram(1000));
        this.keyProjection = new IdempotencyKeyProjection(options.dedupTtl, options.idempotencyKeyBudget,
                context.getNumberOfParallelSubtasks(), System::nanoTime);
        metrics.gauge("idempotencyKeysProjected", keyProjection);
        // One subtask polls, so the depth is reported once per job, not once per subtask.
        this.queueDepth = context.getSubtaskId() == 0 ? new QueueDepthGauge(client) : null;
        if (queueDepth != null) {
            metrics.gauge("celeryQueueDepth", queueDepth);
        }
    }

    @Override
    protected void submitRequestEntries(List<CeleryMessage> entries, ResultHandler<CeleryMessage> result) {
        if (reconnect && !reconnect(entries, result)) {
            return;
        }
        long start = System.nanoTime();
        CompletableFuture<String> load = null;
        if (loadScript) {
            // Pipelined ahead of the calls below, so a server that lost its scripts (restart,
            // SCRIPT FLUSH) has it again before they run.
            load = commands.scriptLoad(IdempotentEnqueueScript.SOURCE).toCompletableFuture();
            loadScript = false;
        }
        int n = entries.size();
        int per = options.messagesPerScript;
        List<List<CeleryMessage>> chunks = new ArrayList<>((n + per - 1) / per);
        List<IdempotentEnqueueScript.Call> calls = new ArrayList<>(chunks.size());
        List<CompletableFuture<byte[]>> replies = new ArrayList<>(chunks.size());
        for (int from = 0; from < n; from += per) {
            List<CeleryMessage> chunk = entries.subList(from, Math.min(n, from + per));
            IdempotentEnqueueScript.Call call =
                    IdempotentEnqueueScript.call(chunk, options.dedupTtl.getSeconds(), options.maxQueueDepth);
            RedisFuture<byte[]> reply = commands.evalsha(
                    IdempotentEnqueueScript.SHA1, ScriptOutputType.VALUE, call.keys, call.args);
            chunks.add(chunk);
            if (queueDepth != null) {
                queueDepth.watch(chunk.get(0).queueKey());
            }
            calls.add(call);
            replies.add(reply.toCompletableFuture());
        }
        // Pipelined after the calls, on the same connection: it covers every write before it.
        CompletableFuture<String> durable = options.waitsForDurability() ? durabilityWait() : null;
        connection.flushCommands();
        CompletableFuture<String> loaded = load;
        List<CompletableFuture<?>> all = new ArrayList<>(replies);
        if (loaded != null) {
            all.add(loaded);
        }
        if (durable != null) {
            all.add(durable);
        }
        CompletableFuture.allOf(all.toArray(new CompletableFuture[0]))
                .handle((ignored, e) -> {
                    try {
                        if (!scriptLoadFailed(loaded, replies, result) && !notDurable(durable, entries, result)) {
                            onReplies(chunks, calls, replies, result, start);
                        }
                    } catch (RuntimeException unexpected) {
                        // Thrown here it would be swallowed, and the request would stay in flight forever.
                        result.completeExceptionally(new CelerySinkException("Celery sink cannot read Valkey's replies: " + unexpected, unexpected));
                    }
                    return null;
                });
    }

    /**
     * A READONLY reply means this connection reaches a replica: a demoted primary after a failover,
     * still answering on the old address or behind a DNS name that moved. Retrying on the same
     * connection would retry there forever, so the writer opens a new one, which resolves the
     * primary again (through the Sentinels for a {@code redis-sentinel://} URI). False if that
     * failed: the entries are retried after a backoff.
     */
    private boolean reconnect(List<CeleryMessage> entries, ResultHandler<CeleryMessage> result) {
        StatefulRedisConnection<String, byte[]> fresh;
        try {
            fresh = client.connect(CODEC);
        } catch (RuntimeException e) {
            retryAfterBackoff(entries, result, "reconnecting to the Valkey primary failed", e.toString());
            return false;
        }
        fresh.setAutoFlushCommands(false);
        StatefulRedisConnection<String, byte[]> old = connection;
        connection = fresh;
        commands = fresh.async();
        loadScript = true;
        reconnect = false;
        old.closeAsync(); // replies still due on it complete (exceptionally) and are retried
        LOG.info("reconnected to Valkey after a READONLY reply (the connection reached a replica)");
        return true;
    }

    /**
     * WAITAOF or WAIT for the configured acknowledgements; completes with null when they all came,
     * else with what was missing.
     */
    private CompletableFuture<String> durabilityWait() {
        long timeout = options.waitTimeout.toMillis();
        if (options.waitLocalAof) {
            CommandArgs<String, byte[]> args = new CommandArgs<>(CODEC).add(1).add(options.waitReplicas).add(timeout);
            return commands.dispatch(WAITAOF, new ArrayOutput<>(CODEC), args).toCompletableFuture().thenApply(reply -> {
                long local = (Long) reply.get(0);
                long replicas = (Long) reply.get(1);
                return local >= 1 && replicas >= options.waitReplicas ? null
                        : "WAITAOF: the primary's append-only file " + (local >= 1 ? "fsynced" : "not fsynced") + ", "
                                + replicas + " of " + options.waitReplicas + " replicas fsynced, within " + timeout + " ms"
                                + (replicas < options.waitReplicas ? " (a replica acknowledges WAITAOF only with appendonly yes)" : "");
            });
        }
        return commands.waitForReplication(options.waitReplicas, timeout).toCompletableFuture()
                .thenApply(acks -> acks >= options.waitReplicas ? null
                        : "WAIT: " + acks + " of " + options.waitReplicas + " replicas acknowledged within " + timeout + " ms");
    }

    /**
     * Too few acknowledgements: the tasks are on the primary but would not survive the failure the
     * user chose to survive, so the whole request is retried later (the script skips what is
     * already there; those count as duplicates skipped) and the checkpoint waits. A refused wait
     * (WAITAOF on a server without an append-only file) fails the job.
     */
    private boolean notDurable(CompletableFuture<String> durable, List<CeleryMessage> entries, ResultHandler<CeleryMessage> result) {
        if (durable == null) {
            return false;
        }
        Throwable error = durable.handle((v, e) -> e).join();
        String shortfall;
        if (error != null) {
            error = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
            Optional<String> fatal = ValkeyErrorClassifier.fatalReason(error);
            if (fatal.isPresent()) {
                result.completeExceptionally(new CelerySinkException("Celery sink cannot wait for durable enqueues: " + fatal.get(), error));
                return true;
            }
            shortfall = error.toString();
            reconnect |= ValkeyErrorClassifier.isReadOnly(error);
        } else {
            shortfall = durable.join();
            if (shortfall == null) {
                return false;
            }
        }
        notDurableWaits.inc();
        retryAfterBackoff(entries, result, "enqueue not yet durable", shortfall);
        return true;
    }

    /** Hands the whole request back after the backoff for one more consecutive failure. */
    private void retryAfterBackoff(List<CeleryMessage> entries, ResultHandler<CeleryMessage> result, String what, String why) {
        int failures = consecutiveFailures.incrementAndGet();
        long delay = options.backoffMillis(failures, ThreadLocalRandom.current().nextDouble());
        LOG.warn("{} ({} consecutive), retrying {} messages in {} ms: {}", what, failures, entries.size(), delay, why);
        List<CeleryMessage> retry = new ArrayList<>(entries);
        retryTimer.schedule(() -> result.retryForEntries(retry), delay, TimeUnit.MILLISECONDS);
    }

    /**
     * A refused SCRIPT LOAD (an ACL user allowed EVALSHA only) while the server lacks the script
     * would otherwise surface as NOSCRIPT on every call, retried forever: it fails the job, naming
     * the permission. While the server has the script (loaded by an administrator), the calls work
     * and the refusal is only logged.
     */
    private boolean scriptLoadFailed(CompletableFuture<String> load, List<CompletableFuture<byte[]>> replies,
            ResultHandler<CeleryMessage> result) {
        if (load == null || !load.isCompletedExceptionally()) {
            return false;
        }
        Throwable cause = load.handle((v, e) -> e).join();
        cause = cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null ? cause.getCause() : cause;
        Optional<String> fatal = ValkeyErrorClassifier.fatalReason(cause);
        if (fatal.isEmpty()) {
            loadScript = true;
            return false; // an outage: the calls failed too and are retried, with the load ahead of them
        }
        boolean noScript = replies.stream().anyMatch(r -> r.isCompletedExceptionally()
                && ValkeyErrorClassifier.isNoScript(r.handle((v, e) -> e).join()));
        if (!noScript) {
            LOG.warn("SCRIPT LOAD was refused ({}); the enqueue script works while the server keeps it, but after the "
                    + "server's next restart or SCRIPT FLUSH the sink cannot load it again: grant +script|load", cause.getMessage());
            return false;
        }
        loadScript = true;
        result.completeExceptionally(new CelerySinkException("Celery sink cannot load its enqueue script: SCRIPT LOAD was refused ("
                + cause.getMessage() + "); " + fatal.get() + ". Grant the user +script|load (and +evalsha), e.g. ACL SETUSER <user> +script|load", cause));
        return true;
    }

    private void onReplies(
            List<List<CeleryMessage>> chunks,
            List<IdempotentEnqueueScript.Call> calls,
            List<CompletableFuture<byte[]>> replies,
            ResultHandler<CeleryMessage> result,
            long start) {
        List<CeleryMessage> retry = new ArrayList<>();
        List<CeleryMessage> rebuilt = new ArrayList<>();
        Throwable transientCause = null;
        String fullQueue = null;
        long enqueued = 0;
        long keys = 0;
        long duplicates = 0;
        for (int i = 0; i < chunks.size(); i++) {
            CompletableFuture<byte[]> reply = replies.get(i);
            if (reply.isCompletedExceptionally()) {
                Throwable cause = reply.handle((v, e) -> e).join();
                cause = cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null ? cause.getCause() : cause;
                if (ValkeyErrorClassifier.isNoScript(cause)) {
                    loadScript = true;
                }
                Optional<String> fatal = ValkeyErrorClassifier.fatalReason(cause);
                if (fatal.isPresent()) {
                    result.completeExceptionally(new CelerySinkException("Celery sink cannot enqueue: " + fatal.get(), cause));
                    return;
                }
                transientCause = cause;
                reconnect |= ValkeyErrorClassifier.isReadOnly(cause);
                retry.addAll(chunks.get(i));
                continue;
            }
            IdempotentEnqueueScript.Reply r;
            try {
                r = calls.get(i).reply(reply.join());
            } catch (IllegalStateException e) { // another script under our SHA-1, or a proxy mangling replies
                result.completeExceptionally(new CelerySinkException("Celery sink cannot enqueue: " + e.getMessage(), e));
                return;
            }
            if (r.fullQueue() != null) {
                fullQueue = r.fullQueue();
                retry.addAll(chunks.get(i));
                continue;
            }
            for (int c = 0; c < chunks.get(i).size(); c++) {
                switch (r.outcome(c)) {
                    case ENQUEUED:
                        enqueued++;
                        keys += chunks.get(i).get(c).dedupKeyCount();
                        break;
                    case CONFLICT:
                        if (options.codec == null) {
                            result.completeExceptionally(new CelerySinkException(
                                    "Celery sink received a batch task but has no codec to re-encode it: set CelerySink.Builder#setCodec", null));
                            return;
                        }
                        CeleryMessage rest = withoutEnqueuedMembers(options.codec, chunks.get(i).get(c), r.enqueuedMembers(c));
                        if (rest == null) {
                            duplicates++;
                        } else {
                            rebuilt.add(rest);
                        }
                        break;
                    default:
                        duplicates++;
                }
            }
        }
        batchesRebuilt.inc(rebuilt.size());
        tasksEnqueued.inc(enqueued);
        duplicatesSkipped.inc(duplicates);
        keyProjection.record(keys);
        keyProjection.overBudget().ifPresent(projected -> LOG.warn(
                "at the rate of the last minute the sink keeps about {} idempotency keys alive (dedup TTL {} s), more than the "
                        + "about {} Valkey's maxmemory holds: a full Valkey with noeviction refuses enqueues (the sink waits), one "
                        + "that evicts drops keys. Raise maxmemory, or shorten the dedup TTL (cache_ttl) if repeats come sooner (metric idempotencyKeysProjected)",
                projected, keyProjection.ttlSeconds(), keyProjection.budget()));
        if (retry.isEmpty() && !rebuilt.isEmpty()) {
            result.retryForEntries(rebuilt); // at once: nothing failed, the batches only shrank
            return;
        }
        retry.addAll(rebuilt);
        if (retry.isEmpty()) {
            consecutiveFailures.set(0);
            batchSize.update(enqueued + duplicates);
            enqueueLatencyMs.update((System.nanoTime() - start) / 1_000_000);
            long now = System.currentTimeMillis();
            for (List<CeleryMessage> chunk : chunks) {
                for (CeleryMessage m : chunk) {
                    if (m.sourceTimestamp() > 0) {
                        endToEndLatencyMs.update(now - m.sourceTimestamp());
                    }
                }
            }
            result.complete();
            return;
        }
        long delay;
        if (transientCause != null) {
            transientErrors.inc();
            int failures = consecutiveFailures.incrementAndGet();
            delay = options.backoffMillis(failures, ThreadLocalRandom.current().nextDouble());
            LOG.warn("Valkey enqueue failed ({} consecutive), retrying {} messages in {} ms: {}",
                    failures, retry.size(), delay, transientCause.toString());
        } else {
            queueFullWaits.inc();
            delay = options.queueFullPollInterval.toMillis();
            LOG.debug("queue {} is at its max depth {}; holding {} messages for {} ms",
                    fullQueue, options.maxQueueDepth, retry.size(), delay);
        }
        retryTimer.schedule(() -> result.retryForEntries(retry), delay, TimeUnit.MILLISECONDS);
    }

    /** A batch without the members the script found already enqueued by other tasks; null if none is left. */
    private static CeleryMessage withoutEnqueuedMembers(io.celerybridge.connectors.celery.CeleryEnvelopeCodec codec,
            CeleryMessage batch, String mask) {
        java.util.Set<String> done = new java.util.HashSet<>();
        for (int j = 0; j < mask.length(); j++) {
            if (mask.charAt(j) == '1') {
                done.add(batch.memberDedupKeys().get(j));
            }
        }
        return batch.withoutMembers(codec, done);
    }

    @Override
    protected long getSizeInBytes(CeleryMessage message) {
        return message.sizeInBytes();
    }

    @Override
    public void close() {
        try {
            super.close();
        } finally {
            retryTimer.shutdownNow();
            if (queueDepth != null) {
                queueDepth.close();
            }
            try {
                connection.close();
            } finally {
                client.shutdown();
            }
        }
    }
}
