package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.celery.CeleryMessage;
import io.celerybridge.connectors.celery.CeleryTask;
import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.job.internal.CeleryMessageEncoder;
import io.celerybridge.job.internal.UdfFactory;
import io.celerybridge.udfs.BatchUdf;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.FailedEvent;
import io.celerybridge.udfs.TaskEncoder;
import io.celerybridge.udfs.UdfResult;
import io.celerybridge.udfs.builtin.RoutingUdf;
import io.celerybridge.udfs.runtime.BatchUdfOperator;
import io.celerybridge.udfs.runtime.BatchUdfSettings;

import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.restartstrategy.RestartStrategies;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.time.Time;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.SinkFunction;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The processing stage on a MiniCluster (real threads, timers, checkpoints and restarts): retry
 * then success, retries exhausted, a hung call, a poison event, the circuit breaker, the rate
 * limit measured over windows, and a restore with partly filled batches into a real Valkey.
 */
class ProcessingStageITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    static final Queue<String> OUT = new ConcurrentLinkedQueue<>();
    static final Queue<Long> OUT_TIMES = new ConcurrentLinkedQueue<>();
    static final Queue<FailedEvent> FAILED = new ConcurrentLinkedQueue<>();

    static final TaskEncoder<String> ENCODER = (task, event) -> task.name() + ":" + event.getId();

    @BeforeEach
    void reset() {
        OUT.clear();
        OUT_TIMES.clear();
        FAILED.clear();
        Scripted.CALLS.clear();
        Scripted.SEEN.clear();
        FlakyDependency.reset();
    }

    private static List<Event> events(String... ids) {
        List<Event> events = new ArrayList<>();
        for (String id : ids) {
            events.add(new Event(id, "{\"id\": \"" + id + "\"}", 1L));
        }
        return events;
    }

    private static void run(List<Event> events, BatchUdf udf, BatchUdfSettings settings, int parallelism) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        SingleOutputStreamOperator<String> out = env.fromData(events).rebalance()
                .transform("process-batches", TypeInformation.of(String.class),
                        new BatchUdfOperator<>(udf, ENCODER, settings, Map.of(), false));
        out.addSink(new Collect());
        out.getSideOutput(BatchUdfOperator.FAILED).addSink(new CollectFailed());
        env.execute();
    }

    @Test
    void retriesTimeoutsAndPoisonEventsEachEndAsATaskOrADeadLetter() throws Exception {
        // Good events keep flowing around the bad ones, as in a live stream: successes between the
        // bad events' failures tell them apart from an outage (which would hold them, not dead-letter them).
        List<String> ids = new ArrayList<>();
        List<String> bad = List.of("retry2-a", "retry9999-b", "poison-c", "hang-d", "fail-e");
        for (int i = 0; i < 60; i++) {
            ids.add("ok-" + i);
            if (i % 2 == 1 && i / 2 < bad.size()) {
                ids.add(bad.get(i / 2));
            }
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        SingleOutputStreamOperator<String> out = env.fromData(events(ids.toArray(new String[0])))
                .map(e -> {
                    Thread.sleep(40);
                    return e;
                }).returns(Event.class)
                .transform("process-batches", TypeInformation.of(String.class), new BatchUdfOperator<>(new Scripted(), ENCODER,
                        BatchUdfSettings.builder().batchSize(8).maxLinger(Duration.ofMillis(20)).maxRetries(2)
                                .backoff(Duration.ofMillis(20)).maxBackoff(Duration.ofMillis(100)).taskTimeout(Duration.ofMillis(300))
                                .circuitBreaker(3, Duration.ofMillis(300)).build(), Map.of(), false));
        out.addSink(new Collect());
        out.getSideOutput(BatchUdfOperator.FAILED).addSink(new CollectFailed());
        env.execute();

        assertThat(OUT).hasSize(61).doesNotHaveDuplicates().contains("task.a:retry2-a")
                .noneMatch(s -> s.matches(".*:(retry9999|poison|hang|fail).*"));
        Map<String, FailedEvent> failed = FAILED.stream().collect(Collectors.toMap(f -> f.getEvent().getId(), f -> f));
        assertThat(failed).containsOnlyKeys("retry9999-b", "poison-c", "hang-d", "fail-e");
        assertThat(failed.get("retry9999-b").getReason()).isEqualTo(BatchUdfOperator.RETRIES_EXHAUSTED);
        assertThat(failed.get("retry9999-b").getAttempts()).isEqualTo(3);
        assertThat(failed.get("poison-c").getDetail()).contains("cannot handle a poison event");
        assertThat(failed.get("hang-d").getDetail()).contains("timed out after 300 ms");
        assertThat(failed.get("fail-e").getReason()).isEqualTo("BAD_EVENT");
        assertThat(failed.get("fail-e").getAttempts()).isEqualTo(1);
    }

    @Test
    void anOutageOpensTheCircuitThenAProbeClosesItAndNothingIsDeadLettered() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            ids.add("ok-" + i);
        }
        FlakyDependency.downForMs = 1_500;
        run(events(ids.toArray(new String[0])), new FlakyDependency(), BatchUdfSettings.builder().batchSize(5)
                .maxLinger(Duration.ofMillis(10)).maxRetries(2).backoff(Duration.ofMillis(50)).maxBackoff(Duration.ofMillis(200))
                .circuitBreaker(3, Duration.ofMillis(700)).build(), 1);

        assertThat(FAILED).as("an outage must not produce dead letters").isEmpty();
        assertThat(OUT).hasSize(30).doesNotHaveDuplicates();
        List<long[]> calls = new ArrayList<>(FlakyDependency.CALLS); // [time, size, ok]
        int third = 2;
        assertThat(calls.subList(0, 3)).allMatch(c -> c[2] == 0);
        long gap = calls.get(third + 1)[0] - calls.get(third)[0];
        assertThat(gap).as("open: no call for circuit.open_for").isGreaterThanOrEqualTo(700);
        assertThat(calls.get(third + 1)[1]).as("half-open: one event probes").isEqualTo(1);
        assertThat(calls.stream().filter(c -> c[2] == 1).count()).isPositive();
    }

    @Test
    void theRateLimitHoldsJobWideOverEveryWindowAndDropsNothing() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            ids.add("ok-" + i);
        }
        run(events(ids.toArray(new String[0])), new Scripted(), BatchUdfSettings.builder().batchSize(10)
                .maxLinger(Duration.ofMillis(10)).rateLimit(40, Duration.ofSeconds(1)).build(), 2);

        assertThat(OUT).hasSize(120).doesNotHaveDuplicates();
        List<Long> times = OUT_TIMES.stream().sorted().collect(Collectors.toList());
        long first = times.get(0);
        // Each of the 2 subtasks may burst its share (20) at once, then 20/s: 120 tasks need >= 2 s.
        assertThat(times.get(times.size() - 1) - first).isGreaterThanOrEqualTo(1_900);
        for (long start = first + 1_000; start <= times.get(times.size() - 1); start += 100) {
            long s = start;
            long inWindow = times.stream().filter(t -> t >= s && t < s + 1_000).count();
            assertThat(inWindow).as("tasks in the second from %d ms", s - first).isLessThanOrEqualTo(42);
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "udf.batch_task=''{0}''")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"", "celery_bridge.process_batch"})
    void partlyFilledBatchesSurviveARestoreAndEveryEventIsEnqueuedOnce(String batchTask) throws Exception {
        String run = UUID.randomUUID().toString();
        String queue = "stage-it-" + run;
        int n = 4_000;
        BridgeConfig config = TestConfigs.forTestServers("channel=" + queue, "celery.task=celery_bridge.record",
                "batch_size=500", "udf.max_linger=3s", "udf.batch_task=" + batchTask);
        FailOnceAfterCheckpoint.reset(batchTask.isEmpty() ? 1_500 : 2); // messages before the failure

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(200);
        env.setRestartStrategy(RestartStrategies.fixedDelayRestart(3, Time.milliseconds(200)));
        env.fromSequence(0, n - 1)
                .map(i -> {
                    Thread.sleep(1); // slow enough that batches are partly filled at every checkpoint
                    String id = run + "-" + i;
                    return new Event(id, "{\"id\": \"" + id + "\"}", System.currentTimeMillis());
                }).returns(Event.class)
                .transform("process-batches", TypeInformation.of(CeleryMessage.class), new BatchUdfOperator<>(
                        UdfFactory.udf(config), new CeleryMessageEncoder(CeleryBridgeJob.codec(config), config.get(io.celerybridge.job.config.BridgeOptions.CELERY_MAX_TASK_BYTES)),
                        UdfFactory.settings(config), Map.of(), false))
                .map(new FailOnceAfterCheckpoint()).returns(CeleryMessage.class)
                .sinkTo(CeleryBridgeJob.celerySink(config));
        env.execute("stage-restore-" + run);

        assertThat(FailOnceAfterCheckpoint.FAILED.get()).as("the injected failure happened").isTrue();
        ObjectMapper json = new ObjectMapper();
        Set<String> taskIds = new HashSet<>();
        List<String> eventIds = new ArrayList<>();
        try (CeleryBackendReader valkey = new CeleryBackendReader(TestServers.valkeyUri())) {
            for (String list : CeleryEnvelopeCodec.priorityListKeys(queue)) {
                for (String raw : valkey.redis().lrange(list, 0, -1)) {
                    com.fasterxml.jackson.databind.JsonNode envelope = json.readTree(raw);
                    assertThat(taskIds.add(envelope.get("headers").get("id").asText())).as("no task id twice").isTrue();
                    com.fasterxml.jackson.databind.JsonNode kwargs =
                            json.readTree(java.util.Base64.getDecoder().decode(envelope.get("body").asText())).get(1);
                    if (batchTask.isEmpty()) {
                        eventIds.add(kwargs.get("event").get("id").asText());
                    } else {
                        kwargs.get("events").forEach(e -> eventIds.add(e.get("id").asText()));
                    }
                }
                valkey.redis().del(list);
            }
        }
        assertThat(eventIds).as("events enqueued").hasSize(n).doesNotHaveDuplicates();
        if (!batchTask.isEmpty()) {
            assertThat(taskIds.size()).as("batch tasks").isLessThan(n / 5);
        }
    }

    /** Fails the job once, mid-stream, after a checkpoint has completed. */
    static final class FailOnceAfterCheckpoint extends RichMapFunction<CeleryMessage, CeleryMessage> implements CheckpointListener {
        static final AtomicBoolean FAILED = new AtomicBoolean();
        static final AtomicBoolean CHECKPOINTED = new AtomicBoolean();
        static final AtomicInteger SEEN = new AtomicInteger();
        static volatile int after;

        static void reset(int messagesBeforeFailure) {
            after = messagesBeforeFailure;
            FAILED.set(false);
            CHECKPOINTED.set(false);
            SEEN.set(0);
        }

        @Override
        public CeleryMessage map(CeleryMessage m) {
            if (CHECKPOINTED.get() && SEEN.incrementAndGet() > after && FAILED.compareAndSet(false, true)) {
                throw new IllegalStateException("injected failure");
            }
            return m;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            CHECKPOINTED.set(true);
        }
    }

    /** Behaviour by event id: ok-*, fail-*, retryN-*, poison-* (the batch throws), hang-* (sleeps). */
    static final class Scripted implements BatchUdf {
        static final Queue<List<String>> CALLS = new ConcurrentLinkedQueue<>();
        static final Map<String, AtomicInteger> SEEN = new ConcurrentHashMap<>();

        @Override
        public List<UdfResult> process(List<Event> events) throws Exception {
            List<String> ids = events.stream().map(Event::getId).collect(Collectors.toList());
            CALLS.add(ids);
            if (ids.stream().anyMatch(id -> id.startsWith("poison"))) {
                throw new IllegalStateException("cannot handle a poison event");
            }
            if (ids.stream().anyMatch(id -> id.startsWith("hang"))) {
                Thread.sleep(60_000);
            }
            List<UdfResult> out = new ArrayList<>();
            for (String id : ids) {
                int seen = SEEN.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                if (id.startsWith("fail")) {
                    out.add(UdfResult.fail("BAD_EVENT", "bad"));
                } else if (id.startsWith("retry") && seen <= Integer.parseInt(id.substring(5, id.indexOf('-')))) {
                    out.add(UdfResult.retry("busy"));
                } else {
                    out.add(UdfResult.tasks(CeleryTask.builder().id(id).idempotencyKey(id).name("task.a").build()));
                }
            }
            return out;
        }
    }

    /** A dependency that is down for a while after the first call, then answers. */
    static final class FlakyDependency implements BatchUdf {
        static final Queue<long[]> CALLS = new ConcurrentLinkedQueue<>();
        static volatile long downForMs;
        static volatile long firstCall;

        static void reset() {
            CALLS.clear();
            firstCall = 0;
        }

        @Override
        public List<UdfResult> process(List<Event> events) throws Exception {
            long now = System.currentTimeMillis();
            if (firstCall == 0) {
                firstCall = now;
            }
            boolean up = now - firstCall >= downForMs;
            CALLS.add(new long[] {now, events.size(), up ? 1 : 0});
            if (!up) {
                throw new java.net.ConnectException("connection refused");
            }
            return events.stream().map(e -> UdfResult.tasks(CeleryTask.builder().id(e.getId()).idempotencyKey(e.getId())
                    .name("task.a").build())).collect(Collectors.toList());
        }
    }

    static final class Collect implements SinkFunction<String> {
        @Override
        public void invoke(String value, Context context) {
            OUT.add(value);
            OUT_TIMES.add(System.currentTimeMillis());
        }
    }

    static final class CollectFailed implements SinkFunction<FailedEvent> {
        @Override
        public void invoke(FailedEvent value, Context context) {
            FAILED.add(value);
        }
    }
}
