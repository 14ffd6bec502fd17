package io.celerybridge.udfs.runtime;

import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.FailedEvent;
import io.celerybridge.udfs.TaskEncoder;
import io.celerybridge.udfs.TaskRejectedException;
import io.celerybridge.udfs.UdfResult;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The stage's decisions, on a test harness with a hand-driven clock. */
class BatchUdfOperatorTest {

    static final TaskEncoder<String> ENCODER = (task, event) -> {
        if (task.name().equals("unencodable")) {
            throw new TaskRejectedException("UNENCODABLE_TASK", "cannot encode " + task.id());
        }
        return task.name() + ":" + event.getId();
    };

    private OneInputStreamOperatorTestHarness<Event, String> harness;

    @BeforeEach
    void reset() {
        ScriptedUdf.reset();
    }

    @AfterEach
    void close() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    private static BatchUdfSettings.Builder settings() {
        return BatchUdfSettings.builder().batchSize(3).maxLinger(Duration.ofMillis(1000))
                .backoff(Duration.ofMillis(100)).maxBackoff(Duration.ofMillis(400)).maxRetries(3)
                .circuitBreaker(3, Duration.ofSeconds(10)).taskTimeout(Duration.ofSeconds(5));
    }

    private OneInputStreamOperatorTestHarness<Event, String> open(BatchUdfSettings s, OperatorSubtaskState restored) throws Exception {
        harness = new OneInputStreamOperatorTestHarness<>(new BatchUdfOperator<>(new ScriptedUdf(), ENCODER, s, Map.of(), false));
        harness.setup();
        if (restored != null) {
            harness.initializeState(restored);
        }
        harness.open();
        return harness;
    }

    private void send(String... ids) throws Exception {
        for (String id : ids) {
            harness.processElement(new StreamRecord<>(new Event(id, "{\"id\": \"" + id + "\"}", 1L)));
            runMails();
        }
    }

    /** Runs the mails the stage queued (its next UDF call waits for the next mailbox turn), as the task would. */
    private void runMails() throws Exception {
        for (java.util.Optional<org.apache.flink.streaming.runtime.tasks.mailbox.Mail> m;
                (m = harness.getTaskMailbox().tryTake(org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox.MIN_PRIORITY)).isPresent(); ) {
            m.get().run();
        }
    }

    /** Advances the clock in steps, so that each retry timer fires at its time. */
    private void advance(long toMs) throws Exception {
        for (long t = harness.getProcessingTime() + 50; t <= toMs; t += 50) {
            harness.setProcessingTime(t);
            runMails();
        }
    }

    private List<FailedEvent> failed() {
        return harness.getSideOutput(BatchUdfOperator.FAILED) == null ? List.of()
                : harness.getSideOutput(BatchUdfOperator.FAILED).stream().map(StreamRecord::getValue).collect(Collectors.toList());
    }

    @Test
    void batchesBySizeAndByLinger() throws Exception {
        open(settings().build(), null);
        send("ok-1", "ok-2", "ok-3", "ok-4", "ok-5", "ok-6", "ok-7");
        assertThat(ScriptedUdf.CALLS).containsExactly(List.of("ok-1", "ok-2", "ok-3"), List.of("ok-4", "ok-5", "ok-6"));
        harness.setProcessingTime(999);
        assertThat(ScriptedUdf.CALLS).hasSize(2);
        harness.setProcessingTime(1000);
        assertThat(ScriptedUdf.CALLS).hasSize(3).last().isEqualTo(List.of("ok-7"));
        assertThat(harness.extractOutputValues()).containsExactly(
                "task.a:ok-1", "task.a:ok-2", "task.a:ok-3", "task.a:ok-4", "task.a:ok-5", "task.a:ok-6", "task.a:ok-7");
    }

    @Test
    void retriesWithBackoffThenSucceeds() throws Exception {
        open(settings().build(), null);
        send("retry2-a", "ok-1", "ok-2");
        assertThat(harness.extractOutputValues()).containsExactly("task.a:ok-1", "task.a:ok-2");
        advance(49);
        assertThat(ScriptedUdf.callsWith("retry2-a")).isEqualTo(1); // backoff at least half of 100 ms
        advance(2_000);
        assertThat(ScriptedUdf.callsWith("retry2-a")).isEqualTo(3);
        assertThat(harness.extractOutputValues()).containsExactly("task.a:ok-1", "task.a:ok-2", "task.a:retry2-a");
        assertThat(failed()).isEmpty();
    }

    @Test
    void exhaustedRetriesAreDeadLetteredWithAttemptsAndLastError() throws Exception {
        open(settings().maxRetries(3).build(), null);
        send("retry99-a");
        advance(30_000); // alone, so its third failure opens the circuit and the probe after 10 s is its fourth
        assertThat(ScriptedUdf.callsWith("retry99-a")).isEqualTo(4);
        assertThat(failed()).singleElement().satisfies(f -> {
            assertThat(f.getReason()).isEqualTo(BatchUdfOperator.RETRIES_EXHAUSTED);
            assertThat(f.getAttempts()).isEqualTo(4);
            assertThat(f.getDetail()).contains("busy, try 4");
        });
        assertThat(harness.extractOutputValues()).isEmpty();
    }

    @Test
    void permanentFailuresAndUnencodableTasksAreDeadLetteredAtOnce() throws Exception {
        open(settings().build(), null);
        send("fail-1", "ok-1", "unencodable-1");
        assertThat(harness.extractOutputValues()).containsExactly("task.a:ok-1");
        assertThat(failed()).extracting(FailedEvent::getReason, FailedEvent::getAttempts)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("BAD_EVENT", 1), org.assertj.core.groups.Tuple.tuple("UNENCODABLE_TASK", 1));
    }

    @Test
    void aPoisonEventIsIsolatedAndTheRestOfItsBatchGoesThrough() throws Exception {
        open(settings().batchSize(8).build(), null);
        send("ok-0", "ok-1", "ok-2", "ok-3", "ok-4", "poison-5", "ok-6", "ok-7");
        assertThat(harness.extractOutputValues()).hasSize(7).doesNotContain("task.a:poison-5");
        advance(60_000);
        assertThat(failed()).singleElement().satisfies(f -> {
            assertThat(f.getEvent().getId()).isEqualTo("poison-5");
            assertThat(f.getReason()).isEqualTo(BatchUdfOperator.RETRIES_EXHAUSTED);
            assertThat(f.getDetail()).contains("IllegalStateException: cannot handle a poison event");
        });
        // Splitting breadth-first keeps the failures apart: the circuit (threshold 3) never opened.
        assertThat(ScriptedUdf.callsWith("poison-5")).isEqualTo(4 + 3); // 4 calls while split down, then 3 retries alone
    }

    /**
     * Splitting a failed batch used to make all its calls in one go on the task thread (a batch of
     * 100 with poison events that time out: dozens of task_timeouts with no checkpoint barrier
     * taken). Each call now waits for the next mailbox turn, where a queued barrier goes first.
     */
    @Test
    void aSplitBatchMakesOneCallPerMailboxTurn() throws Exception {
        open(settings().batchSize(4).build(), null);
        for (String id : List.of("ok-1", "ok-2", "poison-3", "ok-4")) {
            harness.processElement(new StreamRecord<>(new Event(id, "{}", 1L)));
        }
        assertThat(ScriptedUdf.CALLS).as("calls before the task runs its mails").hasSize(1);
        assertThat(harness.getTaskMailbox().hasMail()).as("the next call, queued as a mail").isTrue();
        runMails();
        assertThat(ScriptedUdf.CALLS).as("the halves, then the quarters").hasSizeGreaterThan(3);
        assertThat(harness.extractOutputValues()).containsExactlyInAnyOrder("task.a:ok-1", "task.a:ok-2", "task.a:ok-4");
    }

    /**
     * Ten adjacent poison events in a batch of 100: isolating them fails many calls in a row, which
     * used to open the circuit as if the dependency were down; their attempts were refunded and they
     * were put back, reopening it each time: after 10 simulated minutes none was dead-lettered, one
     * good event was stuck with them, and the UDF had been called 3,033 times. The canary (the last
     * event processed, called again) shows the dependency is up, so they spend their attempts.
     */
    @Test
    void aClusterOfPoisonEventsIsDeadLetteredAndNeverTakenForAnOutage() throws Exception {
        open(settings().batchSize(100).maxRetries(5).circuitBreaker(5, Duration.ofMillis(200)).build(), null);
        for (int i = 0; i < 300; i++) {
            send(i >= 140 && i < 150 ? "poison-" + (i - 140) : "ok-" + i);
        }
        advance(harness.getProcessingTime() + 30_000);
        assertThat(failed()).as("all ten dead-lettered within 30 simulated seconds").hasSize(10).allSatisfy(f -> {
            assertThat(f.getEvent().getId()).startsWith("poison-");
            assertThat(f.getReason()).isEqualTo(BatchUdfOperator.RETRIES_EXHAUSTED);
            assertThat(f.getAttempts()).isEqualTo(6);
        });
        assertThat(harness.extractOutputValues()).as("every good event").hasSize(290);
        System.out.printf("poison cluster: %d UDF calls for 300 events%n", ScriptedUdf.CALLS.size());
        assertThat(ScriptedUdf.CALLS.size()).as("UDF calls").isLessThan(1_000);
    }

    private static final BatchUdfSettings CANARY_SETTINGS = settings().batchSize(10).maxLinger(Duration.ZERO).maxRetries(3)
            .circuitBreaker(3, Duration.ofMillis(200)).build();

    /** A stage that processed one event (its canary) and was snapshotted, then closed. */
    private OperatorSubtaskState snapshotAfterOneProcessedEvent() throws Exception {
        open(CANARY_SETTINGS, null);
        send("ok-1");
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();
        return snapshot;
    }

    /**
     * The canary survives a restore: a restarted stage that holds nothing but a cluster of poison
     * events used to have no canary, took their failures for an outage and held them, probing forever.
     */
    @Test
    void aRestoredStageStillTellsAPoisonClusterFromAnOutage() throws Exception {
        OperatorSubtaskState snapshot = snapshotAfterOneProcessedEvent();
        open(CANARY_SETTINGS, snapshot);
        send("poison-1", "poison-2", "poison-3", "poison-4");
        advance(harness.getProcessingTime() + 30_000);
        assertThat(failed()).as("dead-lettered, not held as an outage").hasSize(4)
                .allSatisfy(f -> assertThat(f.getReason()).isEqualTo(BatchUdfOperator.RETRIES_EXHAUSTED));
    }

    /** Union state: after a rescale up, the new subtask has a canary too. */
    @Test
    void aSubtaskAddedByARescaleHasACanary() throws Exception {
        OperatorSubtaskState snapshot = snapshotAfterOneProcessedEvent();
        harness = new OneInputStreamOperatorTestHarness<>(
                new BatchUdfOperator<>(new ScriptedUdf(), ENCODER, CANARY_SETTINGS, Map.of(), false), 8, 2, 1);
        harness.setup();
        harness.initializeState(org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness.repartitionOperatorState(snapshot, 8, 1, 2, 1));
        harness.open();
        send("poison-1", "poison-2", "poison-3", "poison-4");
        advance(harness.getProcessingTime() + 30_000);
        assertThat(failed()).as("dead-lettered by the new subtask, not held as an outage").hasSize(4);
    }

    /** An outage after events were processed: the canary fails too, so the circuit opens and nothing is spent. */
    @Test
    void anOutageAfterSuccessesStillOpensTheCircuitAndSpendsNothing() throws Exception {
        open(settings().batchSize(10).maxLinger(Duration.ZERO).maxRetries(2).circuitBreaker(3, Duration.ofSeconds(10)).build(), null);
        send("ok-a", "ok-b");
        assertThat(harness.extractOutputValues()).hasSize(2);
        ScriptedUdf.outage = true;
        send("ok-1", "ok-2", "ok-3", "ok-4");
        advance(harness.getProcessingTime() + 60_000);
        assertThat(failed()).as("an outage must not turn into dead letters").isEmpty();
        ScriptedUdf.outage = false;
        advance(harness.getProcessingTime() + 30_000);
        assertThat(harness.extractOutputValues()).hasSize(6);
        assertThat(failed()).isEmpty();
    }

    @Test
    void aDeadLetterSaysWhenItsEventFirstFailed() throws Exception {
        open(settings().batchSize(1).maxLinger(Duration.ZERO).maxRetries(2).build(), null);
        harness.setProcessingTime(5_000);
        send("poison-1");
        advance(20_000);
        assertThat(failed()).singleElement().satisfies(f -> assertThat(f.getFirstFailedAt()).isEqualTo(5_000L));
    }

    @Test
    void aHungCallTimesOutAndIsRetriedThenDeadLettered() throws Exception {
        open(settings().batchSize(2).taskTimeout(Duration.ofMillis(200)).maxRetries(1)
                .circuitBreaker(2, Duration.ofSeconds(1)).build(), null);
        send("ok-1", "hang-1");
        assertThat(harness.extractOutputValues()).containsExactly("task.a:ok-1");
        advance(5_000);
        assertThat(failed()).singleElement().satisfies(f -> {
            assertThat(f.getEvent().getId()).isEqualTo("hang-1");
            assertThat(f.getReason()).isEqualTo(BatchUdfOperator.RETRIES_EXHAUSTED);
            assertThat(f.getDetail()).contains("timed out after 200 ms");
            assertThat(f.getAttempts()).isEqualTo(2);
        });
    }

    /**
     * A UDF that ignores interrupts used to leak one thread per timeout, without bound. Now calls
     * stop while {@link BatchUdfOperator#MAX_ABANDONED_THREADS} of them still run, and resume when they end.
     */
    @Test
    void timedOutCallsThatIgnoreTheirInterruptAreBounded() throws Exception {
        ScriptedUdf.stubbornMs = 2_000;
        open(settings().batchSize(1).maxBuffered(100).maxLinger(Duration.ZERO).taskTimeout(Duration.ofMillis(50)).maxRetries(100)
                .circuitBreaker(100, Duration.ofSeconds(1)).build(), null);
        for (int i = 0; i < 6; i++) {
            send("stubborn-" + i);
        }
        advance(harness.getProcessingTime() + 5_000);
        assertThat(ScriptedUdf.CALLS).as("calls while the abandoned ones still run").hasSize(BatchUdfOperator.MAX_ABANDONED_THREADS);
        Thread.sleep(2_500); // they end
        ScriptedUdf.stubbornMs = 0;
        advance(harness.getProcessingTime() + 10_000);
        assertThat(harness.extractOutputValues()).as("every event once the UDF behaves").hasSize(6);
        assertThat(failed()).isEmpty();
    }

    @Test
    void anOutageOpensTheCircuitSpendsNoRetriesAndAProbeClosesIt() throws Exception {
        open(settings().batchSize(1).maxLinger(Duration.ZERO).maxRetries(2)
                .circuitBreaker(3, Duration.ofSeconds(10)).build(), null);
        ScriptedUdf.outage = true;
        send("ok-1", "ok-2");
        advance(3_000); // two events fail, then the first one's retry: three in a row open the circuit
        int callsWhenOpened = ScriptedUdf.CALLS.size();
        assertThat(callsWhenOpened).isEqualTo(3);
        advance(9_000);
        assertThat(ScriptedUdf.CALLS).hasSize(callsWhenOpened); // open: no calls at all
        advance(13_050);
        assertThat(ScriptedUdf.CALLS).hasSize(callsWhenOpened + 1).last().asList().hasSize(1); // half-open: one probe, which fails
        advance(60_000);
        assertThat(failed()).as("an outage must not turn into dead letters").isEmpty();
        ScriptedUdf.outage = false;
        advance(90_000);
        assertThat(harness.extractOutputValues()).containsExactlyInAnyOrder("task.a:ok-1", "task.a:ok-2");
        assertThat(failed()).isEmpty();
    }

    @Test
    void aPartlyFilledBatchSurvivesASnapshotAndRestore() throws Exception {
        open(settings().batchSize(10).build(), null);
        send("ok-1", "ok-2", "ok-3", "retry1-a");
        OperatorSubtaskState snapshot = harness.snapshot(1L, 1L);
        harness.close();
        ScriptedUdf.reset();

        open(settings().batchSize(10).build(), snapshot);
        assertThat(ScriptedUdf.CALLS).isEmpty();
        harness.setProcessingTime(1_000);
        assertThat(harness.extractOutputValues()).containsExactly("task.a:ok-1", "task.a:ok-2", "task.a:ok-3");
        advance(3_000);
        assertThat(harness.extractOutputValues()).containsExactly("task.a:ok-1", "task.a:ok-2", "task.a:ok-3", "task.a:retry1-a");
    }

    /** The limiter's buckets are in state: a restore right after a burst waits instead of bursting again. */
    @Test
    void aRestoreDoesNotGrantAFreshBurstAboveTheRateLimit() throws Exception {
        BatchUdfSettings s = settings().batchSize(1).maxLinger(Duration.ZERO).rateLimit(4, Duration.ofSeconds(1)).build();
        open(s, null);
        send("ok-1", "ok-2", "ok-3", "ok-4"); // the burst
        assertThat(harness.extractOutputValues()).hasSize(4);
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();
        open(s, snapshot);
        send("ok-5", "ok-6");
        assertThat(harness.extractOutputValues()).as("a fresh burst after the restore").isEmpty();
        advance(249);
        assertThat(harness.extractOutputValues()).isEmpty();
        advance(600); // 4 per second: one every 250 ms
        assertThat(harness.extractOutputValues()).containsExactly("task.a:ok-5", "task.a:ok-6");
    }

    /**
     * The rate limit waits for a timer, not on the task thread: processElement returns at once (it
     * used to sleep), tasks go out in order at the limit's pace, and one still waiting is in state.
     */
    @Test
    void theRateLimitWaitsForTimersAndAWaitingTaskSurvivesARestore() throws Exception {
        BatchUdfSettings s = settings().batchSize(1).maxLinger(Duration.ZERO).rateLimit(2, Duration.ofSeconds(1)).build();
        open(s, null);
        long start = System.nanoTime();
        send("ok-1", "ok-2", "ok-3", "ok-4");
        assertThat((System.nanoTime() - start) / 1_000_000).as("ms processElement held the task thread").isLessThan(400);
        assertThat(harness.extractOutputValues()).containsExactly("task.a:ok-1", "task.a:ok-2");
        advance(500);
        assertThat(harness.extractOutputValues()).containsExactly("task.a:ok-1", "task.a:ok-2", "task.a:ok-3");
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();
        ScriptedUdf.reset();
        open(s, snapshot);
        advance(harness.getProcessingTime() + 1_000);
        assertThat(harness.extractOutputValues()).as("the task that waited for the limit").containsExactly("task.a:ok-4");
    }

    /**
     * A full buffer with a pausable input: the stage pauses it and returns instead of blocking
     * the task thread for the outage, and resumes it once there is room.
     */
    @Test
    void aFullBufferPausesTheInputInsteadOfBlocking() throws Exception {
        List<String> switched = new java.util.concurrent.CopyOnWriteArrayList<>();
        InputPause.Switch input = new InputPause.Switch() {
            @Override
            public void pause() {
                switched.add("pause");
            }

            @Override
            public void resume() {
                switched.add("resume");
            }
        };
        harness = new OneInputStreamOperatorTestHarness<>(new BatchUdfOperator<>(new ScriptedUdf(), ENCODER,
                settings().batchSize(2).maxBuffered(4).maxLinger(Duration.ZERO).circuitBreaker(2, Duration.ofSeconds(10)).build(),
                Map.of(), false, () -> input));
        harness.open();
        ScriptedUdf.outage = true;
        send("ok-1", "ok-2", "ok-3", "ok-4", "ok-5"); // the circuit opens; the buffer fills
        assertThat(switched).containsExactly("pause");
        ScriptedUdf.outage = false;
        advance(30_000);
        assertThat(switched).containsExactly("pause", "resume");
        assertThat(harness.extractOutputValues()).containsExactlyInAnyOrder(
                "task.a:ok-1", "task.a:ok-2", "task.a:ok-3", "task.a:ok-4", "task.a:ok-5");
        assertThat(failed()).isEmpty();
    }

    @Test
    void aResultListThatDoesNotMatchTheBatchIsAContractViolation() throws Exception {
        harness = new OneInputStreamOperatorTestHarness<>(new BatchUdfOperator<>(
                events -> List.of(UdfResult.fail("X", "only one")), ENCODER, settings().build(), Map.of(), false));
        harness.open();
        send("ok-1", "ok-2", "ok-3");
        assertThat(failed()).hasSize(3).allSatisfy(f -> assertThat(f.getReason()).isEqualTo(BatchUdfOperator.UDF_CONTRACT_VIOLATED));
    }

    @Test
    void aTaskSharedByTheEventsOfABatchIsEmittedOnce() throws Exception {
        harness = new OneInputStreamOperatorTestHarness<>(new BatchUdfOperator<>(events -> {
            UdfResult shared = UdfResult.tasks(io.celerybridge.connectors.celery.CeleryTask.builder().name("batch")
                    .batchOf("events", events.stream().map(Event::getId).collect(Collectors.toList()),
                            events.stream().map(Event::getPayloadJson).collect(Collectors.toList())).build());
            return java.util.Collections.nCopies(events.size(), shared);
        }, (task, event) -> task.name() + ":" + task.memberKeys(), settings().build(), Map.of(), true));
        harness.open();
        send("a", "b", "c");
        assertThat(harness.extractOutputValues()).containsExactly("batch:[a, b, c]");
        assertThat(harness.getSideOutput(BatchUdfOperator.PROCESSED)).hasSize(3);
    }

    @Test
    void processedEventsAreEmittedForFanOutWhenAsked() throws Exception {
        harness = new OneInputStreamOperatorTestHarness<>(
                new BatchUdfOperator<>(new ScriptedUdf(), ENCODER, settings().build(), Map.of(), true));
        harness.open();
        send("ok-1", "fail-1", "ok-2");
        assertThat(harness.getSideOutput(BatchUdfOperator.PROCESSED)).extracting(r -> r.getValue().getId())
                .containsExactly("ok-1", "ok-2");
    }
}
