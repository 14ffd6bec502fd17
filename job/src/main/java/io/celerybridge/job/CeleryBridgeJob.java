package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.celery.CeleryMessage;
import io.celerybridge.connectors.celery.CelerySink;
import io.celerybridge.connectors.pulsar.DeadLetter;
import io.celerybridge.connectors.pulsar.DeadLetterSerializationSchema;
import io.celerybridge.connectors.pulsar.PulsarConnection;
import io.celerybridge.connectors.pulsar.PulsarRecord;
import io.celerybridge.connectors.pulsar.PulsarRecordSourceBuilder;
import io.celerybridge.connectors.pulsar.PulsarTopicPartitions;
import io.celerybridge.connectors.pulsar.RetainedTopic;
import io.celerybridge.connectors.valkey.KeyAbsentFilter;
import io.celerybridge.connectors.valkey.MarkIfAbsent;
import io.celerybridge.connectors.valkey.StatelessExponentialBackoff;
import io.celerybridge.connectors.valkey.ValkeyClientProvider;
import io.celerybridge.connectors.valkey.ValkeyDurability;
import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.job.config.BridgeOptions;
import io.celerybridge.job.config.JobCommandLine;
import io.celerybridge.job.internal.DeadLetterMarks;
import io.celerybridge.job.internal.DecodeEvents;
import io.celerybridge.job.internal.RejectedRecord;
import io.celerybridge.job.internal.SplitDeadLettered;
import io.celerybridge.job.internal.CeleryMessageEncoder;
import io.celerybridge.job.internal.FailedEventToRejectedRecord;
import io.celerybridge.job.internal.ProcessedEventSerializationSchema;
import io.celerybridge.job.internal.ToDeadLetter;
import io.celerybridge.job.internal.ChainedSourcePause;
import io.celerybridge.job.internal.OutageCheckpointCheck;
import io.celerybridge.job.internal.UdfFactory;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.decode.EventDecoder;
import io.celerybridge.udfs.runtime.BatchUdfOperator;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.pulsar.sink.PulsarSink;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.IntUnaryOperator;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline: Pulsar source → decode → idempotency check (async, read-only) → batched UDFs
 * (tasks, encoded) → Celery sink (atomic idempotent enqueue); records rejected by any stage go to
 * the DLQ topic, and processed events optionally fan out to another Pulsar topic.
 *
 * <p>Sources and sinks are constructor arguments so tests can swap them; {@link #main} wires
 * the production ones from the configuration ({@code --config FILE}, {@code --set key=value},
 * {@code CELERY_BRIDGE__*} environment variables; {@code --print-config}).
 */
public class CeleryBridgeJob {

    private static final Logger LOG = LoggerFactory.getLogger(CeleryBridgeJob.class);
    static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(10);
    static final int DEFAULT_MAX_PARALLELISM = 128;

    private final Source<PulsarRecord, ?, ?> source;
    private final IntUnaryOperator sourceParallelism;
    private final Sink<CeleryMessage> celerySink;
    private final Sink<DeadLetter> dlqSink;
    private final Sink<Event> fanoutSink;
    private final BridgeConfig config;

    /**
     * @param sourceParallelism the source's parallelism given the one asked for (see {@link
     *     #sourceParallelism(BridgeConfig)}); {@code IntUnaryOperator.identity()} for a test source
     */
    public CeleryBridgeJob(
            Source<PulsarRecord, ?, ?> source,
            IntUnaryOperator sourceParallelism,
            Sink<CeleryMessage> celerySink,
            Sink<DeadLetter> dlqSink,
            BridgeConfig config) {
        this(source, sourceParallelism, celerySink, dlqSink, null, config);
    }

    /** @param fanoutSink where processed events are also published, or null for none */
    public CeleryBridgeJob(
            Source<PulsarRecord, ?, ?> source,
            IntUnaryOperator sourceParallelism,
            Sink<CeleryMessage> celerySink,
            Sink<DeadLetter> dlqSink,
            Sink<Event> fanoutSink,
            BridgeConfig config) {
        this.source = source;
        this.sourceParallelism = sourceParallelism;
        this.celerySink = celerySink;
        this.dlqSink = dlqSink;
        this.fanoutSink = fanoutSink;
        this.config = config;
    }

    public static void main(String[] args) throws Exception {
        BridgeConfig config = JobCommandLine.parse(args, System.getenv(), System.out);
        if (config == null) {
            return; // --print-config or --help
        }
        // The environment as Flink hands it over (flink run, REST, application mode): its
        // configuration already holds the cluster's file, -D, -p and -s; configure() only adds
        // what the job's own config sets explicitly.
        forProduction(config).execute(StreamExecutionEnvironment.getExecutionEnvironment());
    }

    /** The job with its production source and sinks. */
    public static CeleryBridgeJob forProduction(BridgeConfig config) {
        ValkeyDurability valkey = ValkeyStartupCheck.check(config);
        retainProducedTopics(config);
        ValkeyStartupCheck.warnIfDedupMarksOutgrowValkey(config, valkey);
        return new CeleryBridgeJob(pulsarSource(config), sourceParallelism(config),
                celerySink(config, ValkeyStartupCheck.dedupMarkBudget(valkey)), dlqSink(config),
                config.get(BridgeOptions.UDF_FANOUT_TOPIC).isEmpty() ? null : fanoutSink(config), config);
    }

    public JobExecutionResult execute(StreamExecutionEnvironment env) throws Exception {
        build(env);
        return env.execute("celery-bridge");
    }

    /** Adds the pipeline to {@code env}. */
    public void build(StreamExecutionEnvironment env) {
        configure(env);
        CeleryEnvelopeCodec codec = codec(config);

        SingleOutputStreamOperator<PulsarRecord> records = env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "pulsar-source")
                .uid("pulsar-source");
        int asked = config.get(BridgeOptions.PARALLELISM_SOURCE) > 0 ? config.get(BridgeOptions.PARALLELISM_SOURCE) : env.getParallelism();
        int sourceP = sourceParallelism.applyAsInt(asked);
        records.setParallelism(sourceP);
        // Decode, dedup and the processing stage follow the source unless set: one task, no
        // serialization between them, and the stage can pause the source instead of blocking.
        int dedupP = config.get(BridgeOptions.PARALLELISM_DEDUP) > 0 ? config.get(BridgeOptions.PARALLELISM_DEDUP) : sourceP;
        int udfP = config.get(BridgeOptions.PARALLELISM_UDF) > 0 ? config.get(BridgeOptions.PARALLELISM_UDF) : dedupP;
        OutageCheckpointCheck.warnings(config, env.getConfiguration().get(PipelineOptions.OPERATOR_CHAINING), sourceP, dedupP, udfP,
                        Duration.ofMillis(env.getCheckpointConfig().getCheckpointTimeout()))
                .forEach(LOG::warn);

        SingleOutputStreamOperator<Event> events = records
                .process(new DecodeEvents(new EventDecoder(
                        config.get(BridgeOptions.EVENTS_ID_POINTER), config.get(BridgeOptions.EVENTS_MAX_PAYLOAD_BYTES),
                        config.get(BridgeOptions.EVENTS_MAX_NESTING_DEPTH), config.get(BridgeOptions.EVENTS_REQUIRE_ID),
                        EventDecoder.IdFallback.valueOf(config.get(BridgeOptions.EVENTS_ID_FALLBACK).toUpperCase(java.util.Locale.ROOT)))))
                .name("decode").uid("decode")
                .setParallelism(dedupP);

        SingleOutputStreamOperator<Event> firstSeen = AsyncDataStream.unorderedWaitWithRetry(
                        events,
                        new KeyAbsentFilter<>(valkey(config), new EventDedupKey(codec), config.get(BridgeOptions.DEDUP_NEAR_CACHE_SIZE),
                                config.get(BridgeOptions.CACHE_TTL), DeadLetterMarks.foundPolicy()),
                        config.get(BridgeOptions.DEDUP_TIMEOUT).toMillis(), TimeUnit.MILLISECONDS,
                        config.get(BridgeOptions.DEDUP_CAPACITY),
                        new StatelessExponentialBackoff<>(Integer.MAX_VALUE, 50, 2_000, KeyAbsentFilter::isTransient))
                .name("idempotency-check").uid("idempotency-check")
                .setParallelism(dedupP);
        SingleOutputStreamOperator<Event> undecided = firstSeen.process(new SplitDeadLettered())
                .name("split-dead-lettered").uid("split-dead-lettered")
                .setParallelism(dedupP);

        SingleOutputStreamOperator<CeleryMessage> messages = undecided
                .transform("process-batches", TypeInformation.of(CeleryMessage.class), new BatchUdfOperator<>(
                        UdfFactory.udf(config), new CeleryMessageEncoder(codec, config.get(BridgeOptions.CELERY_MAX_TASK_BYTES)), UdfFactory.settings(config),
                        config.flatMapping(BridgeOptions.UDF_PARAMS), fanoutSink != null, new ChainedSourcePause()))
                .uid("process-batches")
                .setParallelism(udfP);

        parallelism(messages.sinkTo(celerySink).name("celery-sink").uid("celery-sink"),
                config.get(BridgeOptions.PARALLELISM_SINK));

        DataStream<RejectedRecord> rejected = events.getSideOutput(DecodeEvents.REJECTED)
                .union(messages.getSideOutput(BatchUdfOperator.FAILED)
                                .map(new FailedEventToRejectedRecord()).name("failed-events").uid("failed-events"),
                        undecided.getSideOutput(SplitDeadLettered.DEAD_LETTERED)
                                .map(new FailedEventToRejectedRecord()).name("already-dead-lettered").uid("already-dead-lettered"));
        SingleOutputStreamOperator<RejectedRecord> decided = AsyncDataStream.unorderedWaitWithRetry(
                        rejected,
                        new MarkIfAbsent<>(valkey(config), DeadLetterMarks.marker(codec), config.get(BridgeOptions.CACHE_TTL),
                                DeadLetterMarks.outcome()),
                        // Retried as long as a checkpoint may take: an unmarked dead letter could later meet a task.
                        env.getCheckpointConfig().getCheckpointTimeout(), TimeUnit.MILLISECONDS,
                        config.get(BridgeOptions.DEDUP_CAPACITY),
                        new StatelessExponentialBackoff<>(Integer.MAX_VALUE, 50, 2_000, MarkIfAbsent::isTransient))
                .name("dead-letter-decision").uid("dead-letter-decision");
        parallelism(decided.map(new ToDeadLetter()).name("to-dead-letters").uid("to-dead-letters")
                .sinkTo(dlqSink).name("dlq-sink").uid("dlq-sink"), config.get(BridgeOptions.PARALLELISM_SINK));

        if (fanoutSink != null) {
            parallelism(messages.getSideOutput(BatchUdfOperator.PROCESSED)
                    .sinkTo(fanoutSink).name("fanout-sink").uid("fanout-sink"), config.get(BridgeOptions.PARALLELISM_SINK));
        }
    }

    /**
     * Flink's settings as Flink decides them, overridden only by what the job's config sets
     * explicitly; applied as configuration (FLIP-381), as a cluster file or -D would be.
     */
    private void configure(StreamExecutionEnvironment env) {
        Configuration job = new Configuration();
        Duration interval = config.get(BridgeOptions.CHECKPOINT_INTERVAL);
        if (interval != null) {
            job.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, interval);
        } else if (!env.getCheckpointConfig().isCheckpointingEnabled()) {
            // Without checkpoints the source never acknowledges and the sink never flushes on a barrier.
            LOG.info("no checkpoint interval in Flink's configuration nor in checkpointing.interval: checkpointing every {}",
                    DEFAULT_CHECKPOINT_INTERVAL);
            job.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, DEFAULT_CHECKPOINT_INTERVAL);
        }
        String mode = config.get(BridgeOptions.CHECKPOINT_MODE);
        if (mode != null) {
            job.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE,
                    "at_least_once".equals(mode) ? CheckpointingMode.AT_LEAST_ONCE : CheckpointingMode.EXACTLY_ONCE);
        }
        if (config.get(BridgeOptions.CHECKPOINT_TIMEOUT) != null) {
            job.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, config.get(BridgeOptions.CHECKPOINT_TIMEOUT));
        }
        if (env.getConfiguration().getOptional(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER).isEmpty()) {
            // Checkpoints can expire for no fault of the input: a sink or UDF outage where an operator
            // cannot help blocking the task thread (see OutageCheckpointCheck), and Flink 1.20 takes a
            // barrier only between records. With Flink's default (0 tolerated) each expiry failed the
            // job, and the restarted job met the same outage. Nothing is acknowledged or enqueued
            // past a failed checkpoint.
            job.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, Integer.MAX_VALUE);
        }
        String restart = config.get(BridgeOptions.RESTART_STRATEGY);
        if (restart != null) {
            job.set(RestartStrategyOptions.RESTART_STRATEGY, restart);
            Duration delay = config.get(BridgeOptions.RESTART_DELAY);
            if ("fixed-delay".equals(restart)) {
                job.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, config.get(BridgeOptions.RESTART_ATTEMPTS));
                job.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, delay);
            } else if ("exponential-delay".equals(restart)) {
                job.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF, delay);
                job.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF, config.get(BridgeOptions.RESTART_MAX_DELAY));
            }
        }
        int maxParallelism = config.get(BridgeOptions.PARALLELISM_MAX);
        if (maxParallelism > 0) {
            job.set(PipelineOptions.MAX_PARALLELISM, maxParallelism);
        } else if (env.getMaxParallelism() <= 0) {
            // Fixed now, so a savepoint taken at any parallelism up to it can be restored at any other.
            job.set(PipelineOptions.MAX_PARALLELISM, DEFAULT_MAX_PARALLELISM);
        }
        env.configure(job, CeleryBridgeJob.class.getClassLoader());
        env.getConfig().enableObjectReuse(); // every function here emits new objects
    }

    private static void parallelism(SingleOutputStreamOperator<?> op, int p) {
        if (p > 0) {
            op.setParallelism(p);
        }
    }

    private static void parallelism(org.apache.flink.streaming.api.datastream.DataStreamSink<?> sink, int p) {
        if (p > 0) {
            sink.setParallelism(p);
        }
    }

    /** The key the Celery sink marks for an event: the same codec computes both. */
    static final class EventDedupKey implements KeyAbsentFilter.KeyFunction<Event> {
        private static final long serialVersionUID = 1L;
        private final CeleryEnvelopeCodec codec;

        EventDedupKey(CeleryEnvelopeCodec codec) {
            this.codec = codec;
        }

        @Override
        public String apply(Event event) {
            return codec.dedupKey(event.getId());
        }
    }

    static CeleryEnvelopeCodec codec(BridgeConfig config) {
        return CeleryEnvelopeCodec.builder()
                .globalKeyPrefix(config.get(BridgeOptions.CELERY_GLOBAL_KEYPREFIX))
                .maxEta(config.get(BridgeOptions.CELERY_VISIBILITY_TIMEOUT))
                .build();
    }

    /** The connector's source, restored batch-safely (FLINK-36180, see BatchSafePulsarSource). */
    static Source<PulsarRecord, ?, ?> pulsarSource(BridgeConfig config) {
        PulsarRecordSourceBuilder b = new PulsarRecordSourceBuilder()
                .connection(pulsarConnection(config))
                .subscription(config.get(BridgeOptions.PULSAR_SUBSCRIPTION))
                .startPosition(config.get(BridgeOptions.PULSAR_START_POSITION))
                .partitionDiscoveryInterval(config.get(BridgeOptions.PULSAR_PARTITION_DISCOVERY_INTERVAL))
                .maxFetchTime(config.get(BridgeOptions.PULSAR_MAX_FETCH_TIME));
        String pattern = config.get(BridgeOptions.PULSAR_TOPIC_PATTERN);
        if (pattern.isEmpty()) {
            b.topics(config.get(BridgeOptions.TOPIC));
        } else {
            b.topicPattern(pattern);
        }
        return b.build();
    }

    /**
     * The source's parallelism, from the topics' partitions (see {@link PulsarTopicPartitions}):
     * 1 over non-partitioned topics or a pattern (the connector can leave a non-partitioned topic
     * unread at a higher one); otherwise raised, if needed, until every partition has a reader of
     * its own (several partitions on one reader can stall one of them, FLINK-37663).
     */
    static IntUnaryOperator sourceParallelism(BridgeConfig config) {
        if (!config.get(BridgeOptions.PULSAR_TOPIC_PATTERN).isEmpty()) {
            LOG.warn("topic pattern in use: the Pulsar source runs at parallelism 1, since a matched topic may not be "
                    + "partitioned (flink-connector-pulsar 4.1.0 can leave such a topic unread at a higher one); several "
                    + "partitions on that one reader expose FLINK-37663 (a partition can stop being read)");
            return asked -> 1;
        }
        List<String> topics = config.get(BridgeOptions.TOPIC);
        Map<String, Integer> partitions = PulsarTopicPartitions.partitions(pulsarConnection(config), topics);
        if (partitions.containsValue(0)) {
            LOG.warn("a topic of {} is not partitioned: the Pulsar source runs at parallelism 1 "
                    + "(flink-connector-pulsar 4.1.0 can leave a non-partitioned topic unread at a higher one)", topics);
            return asked -> 1;
        }
        return asked -> {
            int p = PulsarTopicPartitions.oneReaderPerPartition(partitions, asked, Math.max(asked, 4 * partitions.values()
                    .stream().mapToInt(Integer::intValue).sum()));
            if (p < 0) {
                LOG.warn("no source parallelism up to 4x the partitions gives each partition of {} its own reader; "
                        + "keeping {} (several partitions per reader expose FLINK-37663)", partitions, asked);
                return asked;
            }
            if (p != asked) {
                LOG.warn("Pulsar source parallelism raised from {} to {} so that each of the partitions {} has its own reader "
                        + "(several partitions per reader can stall one of them in Flink 1.20.5, FLINK-37663)", asked, p, partitions);
            }
            return p;
        };
    }

    /**
     * At least once: a restart can repeat a DLQ record written after the last checkpoint (same
     * source message id and reason). EXACTLY_ONCE needs Pulsar transactions; on the 4.0.7
     * standalone broker tried here, topics failed their transaction-buffer snapshot.
     */
    static PulsarSink<DeadLetter> dlqSink(BridgeConfig config) {
        return pulsarSink(config, config.dlqTopic(), new DeadLetterSerializationSchema());
    }

    /** Processed events to udf.fanout_topic, at least once (as the DLQ, for the same reason). */
    static PulsarSink<Event> fanoutSink(BridgeConfig config) {
        return pulsarSink(config, config.get(BridgeOptions.UDF_FANOUT_TOPIC), new ProcessedEventSerializationSchema());
    }

    private static <T> PulsarSink<T> pulsarSink(BridgeConfig config, String topic,
            org.apache.flink.connector.pulsar.sink.writer.serializer.PulsarSerializationSchema<T> schema) {
        return pulsarConnection(config).applyTo(PulsarSink.<T>builder())
                .setTopics(topic)
                .setSerializationSchema(schema)
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .build();
    }

    /** Broker and admin URLs, token and TLS settings: what every Pulsar client of the job connects with. */
    public static PulsarConnection pulsarConnection(BridgeConfig config) {
        return PulsarConnection.of(config.get(BridgeOptions.PULSAR_SERVICE_URL), config.get(BridgeOptions.PULSAR_ADMIN_URL))
                .withAuthToken(config.secret(BridgeOptions.PULSAR_AUTH_TOKEN, BridgeOptions.PULSAR_AUTH_TOKEN_FILE))
                .withTls(config.get(BridgeOptions.PULSAR_TLS_TRUST_CERTS_FILE), config.get(BridgeOptions.PULSAR_TLS_ALLOW_INSECURE),
                        config.get(BridgeOptions.PULSAR_TLS_HOSTNAME_VERIFICATION));
    }

    /**
     * The DLQ and fan-out topics are only produced to: without a subscription a stock broker
     * deletes them (and their records) a minute after the job's producer leaves. A durable
     * subscription of their own keeps every record until it is acknowledged there.
     */
    static void retainProducedTopics(BridgeConfig config) {
        PulsarConnection pulsar = pulsarConnection(config);
        try {
            RetainedTopic.ensure(pulsar, config.dlqTopic(), config.get(BridgeOptions.DLQ_SUBSCRIPTION), "the DLQ topic (dlq_topic)");
            String fanout = config.get(BridgeOptions.UDF_FANOUT_TOPIC);
            if (!fanout.isEmpty()) {
                RetainedTopic.ensure(pulsar, fanout, config.get(BridgeOptions.UDF_FANOUT_SUBSCRIPTION), "the fan-out topic (udf.fanout_topic)");
            }
        } catch (IllegalStateException e) {
            throw new io.celerybridge.job.config.ConfigException(e.getMessage());
        }
    }

    static CelerySink celerySink(BridgeConfig config) {
        return celerySink(config, 0);
    }

    /** @param dedupMarkBudget how many dedup marks Valkey holds (0: unknown), for the sink's warning */
    static CelerySink celerySink(BridgeConfig config, long dedupMarkBudget) {
        return CelerySink.builder()
                .setClientProvider(valkey(config))
                .setCodec(codec(config))
                .setDedupTtl(config.get(BridgeOptions.CACHE_TTL))
                .setMaxQueueDepth(config.get(BridgeOptions.CELERY_MAX_QUEUE_DEPTH))
                .setMessagesPerScript(config.get(BridgeOptions.CELERY_MESSAGES_PER_SCRIPT))
                .setMaxBatchSize(config.get(BridgeOptions.CELERY_MAX_BATCH_SIZE))
                .setMaxBufferedRequests(Math.max(CelerySink.DEFAULT_MAX_BUFFERED_REQUESTS, 2 * config.get(BridgeOptions.CELERY_MAX_BATCH_SIZE)))
                .setMaxInFlightRequests(config.get(BridgeOptions.CELERY_MAX_IN_FLIGHT))
                .setMaxTimeInBuffer(config.get(BridgeOptions.CELERY_MAX_TIME_IN_BUFFER))
                // The encoder dead-letters anything larger, so the sink never meets a record it cannot take.
                .setMaxRecordSizeInBytes(config.get(BridgeOptions.CELERY_MAX_TASK_BYTES))
                .setMaxBatchSizeInBytes(Math.max(CelerySink.DEFAULT_MAX_BATCH_SIZE_BYTES, config.get(BridgeOptions.CELERY_MAX_TASK_BYTES)))
                .setDurability(config.get(BridgeOptions.VALKEY_WAIT_REPLICAS), config.get(BridgeOptions.VALKEY_WAIT_AOF),
                        config.get(BridgeOptions.VALKEY_WAIT_TIMEOUT))
                .setIdempotencyKeyBudget(dedupMarkBudget)
                .build();
    }

    /** The Valkey URI, with the password from valkey.password(_file) if one is set. */
    static ValkeyClientProvider valkey(BridgeConfig config) {
        String ca = config.get(BridgeOptions.VALKEY_TLS_CA_FILE);
        return ValkeyClientProvider.forUri(config.get(BridgeOptions.VALKEY_URI),
                config.secret(BridgeOptions.VALKEY_PASSWORD, BridgeOptions.VALKEY_PASSWORD_FILE), ca.isEmpty() ? null : ca);
    }
}
