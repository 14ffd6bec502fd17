package io.celerybridge.connectors.pulsar;

import io.celerybridge.connectors.pulsar.internal.EntryAlignedSplitSerializer;
import io.celerybridge.connectors.testutils.TestServers;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.restartstrategy.RestartStrategies;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.connector.pulsar.source.PulsarSource;
import org.apache.flink.connector.pulsar.source.enumerator.cursor.StartCursor;
import org.apache.flink.connector.pulsar.source.enumerator.cursor.StopCursor;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.RichSinkFunction;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * FLINK-36180 fixed: 200,000 events published WITH producer batching (1,000 per batch), a job
 * restored from its checkpoints six times at offsets that land inside batches, and a sink that
 * keeps only what completed checkpoints cover. Every event must be kept. The negative control
 * runs the same scenario through the plain connector and must find events missing: the test can
 * see a loss.
 */
class BatchSafePulsarSourceRestoreITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1).build());

    private static final int EVENTS = 200_000;
    /** Records processed in attempt i before it fails; after the last, the job runs to the end. */
    private static final int[] FAIL_AFTER = {17_003, 23_411, 31_777, 12_509, 27_241, 19_999};

    static final Set<String> COMMITTED = ConcurrentHashMap.newKeySet();
    static final AtomicInteger FAILURES = new AtomicInteger();

    @Test
    void noEventIsLostWhenRestoresLandMidBatch() throws Exception {
        Set<String> realigned = ConcurrentHashMap.newKeySet();
        EntryAlignedSplitSerializer.onRealigned = realigned::add;
        List<Integer> missing;
        try {
            missing = runWithRestores(pulsar -> new BatchSafePulsarSource<>(pulsar));
        } finally {
            EntryAlignedSplitSerializer.onRealigned = null;
        }
        // Where a checkpoint falls depends on timing: 4 to 6 of the 6 restores have landed mid-batch
        // here (4 on a loaded CI run). At least 2 distinct positions keep the case exercised.
        assertThat(realigned).as("distinct mid-batch positions restored from").hasSizeGreaterThanOrEqualTo(2);
        assertThat(missing).as("events lost across restores: %d", missing.size()).isEmpty();
    }

    /** The same scenario through flink-connector-pulsar's own source: FLINK-36180 loses events. */
    @Test
    void negativeControlThePlainConnectorLosesEvents() throws Exception {
        List<Integer> missing = runWithRestores(pulsar -> pulsar);
        System.out.printf("plain PulsarSource: %d of %d events lost across %d restores%n", missing.size(), EVENTS, FAIL_AFTER.length);
        assertThat(missing).as("events the plain connector loses (none: this test could not see a loss)").isNotEmpty();
    }

    /** Publishes, runs the job through its six injected failures to the end, and returns the events no checkpoint kept. */
    private static List<Integer> runWithRestores(
            java.util.function.Function<PulsarSource<PulsarRecord>, org.apache.flink.api.connector.source.Source<PulsarRecord, ?, ?>> wrap)
            throws Exception {
        String topic = "persistent://public/default/restore-it-" + UUID.randomUUID();
        try (PulsarClient client = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build();
                Producer<byte[]> producer = client.newProducer(Schema.BYTES).topic(topic)
                        .enableBatching(true).batchingMaxMessages(1000).batchingMaxBytes(1 << 20)
                        .batchingMaxPublishDelay(200, TimeUnit.MILLISECONDS).blockIfQueueFull(true).create()) {
            for (int i = 0; i < EVENTS; i++) {
                producer.sendAsync(Integer.toString(i).getBytes(StandardCharsets.US_ASCII));
            }
            producer.flush();
        }
        COMMITTED.clear();
        FAILURES.set(0);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.enableCheckpointing(300);
        env.setRestartStrategy(RestartStrategies.fixedDelayRestart(FAIL_AFTER.length + 2, 200));
        PulsarSource<PulsarRecord> pulsar = PulsarSource.builder()
                .setServiceUrl(TestServers.pulsarServiceUrl())
                .setAdminUrl(TestServers.pulsarAdminUrl())
                .setTopics(topic)
                .setSubscriptionName("restore-it")
                .setStartCursor(StartCursor.earliest())
                .setBoundedStopCursor(StopCursor.latest())
                .setDeserializationSchema(new PulsarRecordDeserializationSchema())
                .build();
        env.fromSource(wrap.apply(pulsar), WatermarkStrategy.noWatermarks(), "pulsar")
                .map(new FailAtOffsets())
                .addSink(new KeepWhatCheckpointsCover());
        env.execute("restore-it");

        assertThat(FAILURES.get()).as("injected failures").isEqualTo(FAIL_AFTER.length);
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++) {
            if (!COMMITTED.contains(Integer.toString(i))) {
                missing.add(i);
            }
        }
        return missing;
    }

    /** Throttles so checkpoints fall mid-stream, and fails attempt i after FAIL_AFTER[i] records. */
    static final class FailAtOffsets extends RichMapFunction<PulsarRecord, String> {
        private int processed;

        @Override
        public String map(PulsarRecord record) throws Exception {
            processed++;
            if (processed % 40 == 0) {
                Thread.sleep(1);
            }
            int attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
            if (attempt < FAIL_AFTER.length && processed == FAIL_AFTER[attempt]) {
                FAILURES.incrementAndGet();
                throw new IllegalStateException("injected failure " + attempt);
            }
            return new String(record.getPayload(), StandardCharsets.US_ASCII);
        }
    }

    /** Like a two-phase-commit sink: ids become visible only once a checkpoint covering them completes. */
    @SuppressWarnings("deprecation")
    static final class KeepWhatCheckpointsCover extends RichSinkFunction<String>
            implements CheckpointedFunction, CheckpointListener {
        private transient List<String> pending;
        private transient TreeMap<Long, List<String>> staged;
        private transient ListState<String> state;

        @Override
        public void invoke(String id, Context context) {
            pending.add(id);
        }

        @Override
        public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
            staged.put(ctx.getCheckpointId(), new ArrayList<>(pending));
            pending.clear();
            List<String> all = new ArrayList<>();
            staged.values().forEach(all::addAll);
            state.update(all);
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            Map<Long, List<String>> done = staged.headMap(checkpointId, true);
            done.values().forEach(COMMITTED::addAll);
            done.clear();
        }

        @Override
        public void initializeState(FunctionInitializationContext ctx) throws Exception {
            pending = new ArrayList<>();
            staged = new TreeMap<>();
            state = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<>("staged", String.class));
            if (ctx.isRestored()) {
                // Restored from a completed checkpoint: what it staged is committed.
                state.get().forEach(COMMITTED::add);
            }
        }
    }
}
