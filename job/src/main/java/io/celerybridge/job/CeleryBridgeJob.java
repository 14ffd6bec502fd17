package io.celerybridge.job;

import io.celerybridge.connectors.celery.CelerySink;
import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.celery.CeleryMessage;
import io.celerybridge.connectors.pulsar.BatchSafePulsarSource;
import io.celerybridge.connectors.pulsar.DeadLetter;
import io.celerybridge.connectors.pulsar.DeadLetterSerializationSchema;
import io.celerybridge.connectors.pulsar.PulsarRecord;
import io.celerybridge.connectors.pulsar.PulsarRecordDeserializationSchema;
import io.celerybridge.connectors.pulsar.PulsarTopicPartitions;
import io.celerybridge.connectors.valkey.KeyAbsentFilter;
import io.celerybridge.connectors.valkey.StatelessExponentialBackoff;
import io.celerybridge.connectors.valkey.ValkeyClientProvider;
import io.celerybridge.job.internal.DecodeEvents;
import io.celerybridge.job.internal.EncodeCeleryMessages;
import io.celerybridge.job.internal.ToDeadLetter;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.decode.EventDecoder;
import io.celerybridge.udfs.route.EventToTaskMapper;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.pulsar.sink.PulsarSink;
import org.apache.flink.connector.pulsar.source.PulsarSource;
import org.apache.flink.connector.pulsar.source.enumerator.cursor.StartCursor;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline: Pulsar source → decode → idempotency check (async, read-only) → tasks, encoded
 * → Celery sink (atomic idempotent enqueue); records rejected by any stage go to the DLQ topic.
 *
 * <p>Sources and sinks are constructor arguments so tests can swap them; {@link #main} wires
 * the production ones.
 */
public class CeleryBridgeJob {

    private static final Logger LOG = LoggerFactory.getLogger(CeleryBridgeJob.class);

    private final Source<PulsarRecord, ?, ?> source;
    private final int sourceParallelism;
    private final Sink<CeleryMessage> celerySink;
    private final Sink<DeadLetter> dlqSink;
    private final JobSettings settings;

    /**
     * @param sourceParallelism the source's parallelism, or {@link #DEFAULT_PARALLELISM} for the
     *     job's default
     */
    public CeleryBridgeJob(
            Source<PulsarRecord, ?, ?> source,
            int sourceParallelism,
            Sink<CeleryMessage> celerySink,
            Sink<DeadLetter> dlqSink,
            JobSettings settings) {
        this.source = source;
        this.sourceParallelism = sourceParallelism;
        this.celerySink = celerySink;
        this.dlqSink = dlqSink;
        this.settings = settings;
    }

    public static final int DEFAULT_PARALLELISM = -1;

    public static void main(String[] args) throws Exception {
        forProduction(JobSettings.fromArgs(args)).execute(StreamExecutionEnvironment.getExecutionEnvironment());
    }

    /** The job with its production source and sinks. */
    public static CeleryBridgeJob forProduction(JobSettings settings) {
        return new CeleryBridgeJob(
                pulsarSource(settings), sourceParallelism(settings), celerySink(settings), dlqSink(settings), settings);
    }

    public JobExecutionResult execute(StreamExecutionEnvironment env) throws Exception {
        build(env);
        return env.execute("celery-bridge");
    }

    /** Adds the pipeline to {@code env}. */
    public void build(StreamExecutionEnvironment env) {
        env.enableCheckpointing(settings.checkpointInterval.toMillis());
        env.getConfig().enableObjectReuse(); // every function here emits new objects

        SingleOutputStreamOperator<PulsarRecord> records = env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "pulsar-source")
                .uid("pulsar-source");
        if (sourceParallelism != DEFAULT_PARALLELISM) {
            records.setParallelism(sourceParallelism);
        }

        SingleOutputStreamOperator<Event> events = records
                .process(new DecodeEvents(new EventDecoder(settings.eventIdPointer, EventDecoder.DEFAULT_MAX_PAYLOAD_BYTES)))
                .name("decode").uid("decode");

        CeleryEnvelopeCodec codec = settings.codec();
        DataStream<Event> firstSeen = AsyncDataStream.unorderedWaitWithRetry(
                        events,
                        new KeyAbsentFilter<>(ValkeyClientProvider.forUri(settings.valkeyUri),
                                new EventDedupKey(codec), settings.dedupNearCacheSize),
                        settings.dedupTimeout.toMillis(), TimeUnit.MILLISECONDS, settings.dedupCapacity,
                        new StatelessExponentialBackoff<>(Integer.MAX_VALUE, 50, 2_000, KeyAbsentFilter::isTransient))
                .name("idempotency-check").uid("idempotency-check");

        SingleOutputStreamOperator<CeleryMessage> messages = firstSeen
                .process(new EncodeCeleryMessages(
                        new EventToTaskMapper(settings.celeryTask, settings.celeryQueue), codec))
                .name("encode-celery-messages").uid("encode-celery-messages");

        messages.sinkTo(celerySink).name("celery-sink").uid("celery-sink");

        events.getSideOutput(DecodeEvents.REJECTED)
                .union(messages.getSideOutput(EncodeCeleryMessages.REJECTED))
                .map(new ToDeadLetter()).name("to-dead-letters").uid("to-dead-letters")
                .sinkTo(dlqSink).name("dlq-sink").uid("dlq-sink");
    }

    /** The connector's source, restored batch-safely (FLINK-36180, see BatchSafePulsarSource). */
    static BatchSafePulsarSource<PulsarRecord> pulsarSource(JobSettings settings) {
        return new BatchSafePulsarSource<>(PulsarSource.<PulsarRecord>builder()
                .setServiceUrl(settings.pulsarServiceUrl)
                .setAdminUrl(settings.pulsarAdminUrl)
                .setTopics(settings.topic)
                .setSubscriptionName(settings.subscription)
                .setStartCursor(StartCursor.earliest())
                .setDeserializationSchema(new PulsarRecordDeserializationSchema())
                .build());
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

    /** See {@link PulsarTopicPartitions}: non-partitioned topics need a source at parallelism 1. */
    static int sourceParallelism(JobSettings settings) {
        if (PulsarTopicPartitions.anyNonPartitioned(settings.pulsarAdminUrl, List.of(settings.topic))) {
            LOG.warn("topic {} is not partitioned: the Pulsar source runs at parallelism 1 "
                    + "(flink-connector-pulsar 4.1.0 can leave a non-partitioned topic unread at a higher one)", settings.topic);
            return 1;
        }
        return DEFAULT_PARALLELISM;
    }

    static PulsarSink<DeadLetter> dlqSink(JobSettings settings) {
        return PulsarSink.builder()
                .setServiceUrl(settings.pulsarServiceUrl)
                .setAdminUrl(settings.pulsarAdminUrl)
                .setTopics(settings.dlqTopic)
                .setSerializationSchema(new DeadLetterSerializationSchema())
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .build();
    }

    static CelerySink celerySink(JobSettings settings) {
        return CelerySink.builder()
                .setClientProvider(ValkeyClientProvider.forUri(settings.valkeyUri))
                .setDedupTtl(settings.dedupTtl)
                .setMaxQueueDepth(settings.maxQueueDepth)
                .build();
    }
}
