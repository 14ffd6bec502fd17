package io.celerybridge.udfs.runtime;

import io.celerybridge.udfs.DeadLetterReason;
import io.celerybridge.connectors.celery.CeleryTask;
import io.celerybridge.udfs.BatchUdf;
import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.FailedEvent;
import io.celerybridge.udfs.TaskEncoder;
import io.celerybridge.udfs.TaskRejectedException;
import io.celerybridge.udfs.UdfContext;
import io.celerybridge.udfs.UdfResult;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.util.OutputTag;
import org.apache.flink.util.concurrent.ExecutorThreadFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The processing stage: batches events (by size and linger), calls the {@link BatchUdf} with a
 * timeout, retries transient failures with backoff and jitter, splits a failed batch until the
 * failing events are alone (poison isolation), throttles each task name to its rate, and stops
 * calling a dependency that keeps failing (circuit breaker). Every event leaves as its task(s) or
 * through {@link #FAILED} with a reason; none is dropped.
 *
 * <p>Events still held (batching, awaiting a retry or the rate limit) are kept in operator state, so
 * a restore resumes them; an event whose tasks were partly emitted when the snapshot was taken is
 * processed again after a restore (the sink's idempotency keys drop the tasks already enqueued).
 *
 * <p>Waits never hold the task thread: retries, the rate limit and an open circuit wait for timers.
 * While the buffer is full (a slow UDF, retries piling up, an open circuit, a rate limit) the stage
 * pauses the source chained before it ({@link InputPause}) and returns, so the task keeps taking
 * checkpoints during an outage of any length; throttling never drops. Without a pausable source
 * (the stage in a task of its own) it backpressures by yielding to the mailbox until it has room,
 * and checkpoint barriers wait with it. A UDF call itself holds the task thread for at most
 * {@code task_timeout} (twice that when a canary follows it), and the next call waits for the next
 * mailbox turn, so a barrier queued meanwhile is taken in between.
 *
 * <p>Attempts: a failed call spends an attempt of each event only once the event is alone in it
 * (a failed batch is split first), and a per-event {@link UdfResult#retry} spends one. When the
 * circuit is about to open after failures of different events, the stage first calls the UDF with
 * the last event it processed (the canary): if that succeeds, the dependency is up and the failures
 * are the events' own (a cluster of poison events), so the circuit stays closed, the events are
 * isolated and spend their attempts, and each reaches the DLQ after {@code max_retries}. If the
 * canary fails too (or nothing was processed yet), that is an outage: the circuit opens, the
 * attempts spent since the last success are refunded and nothing more is spent until a call
 * succeeds. When one event alone keeps failing, its failures, probes included, count, so it is
 * dead-lettered in the end instead of being held forever. Probes go out with one event, a new one
 * when there is one. The canary is kept in state, so a restarted stage has one too.
 */
@Internal
public class BatchUdfOperator<OUT> extends AbstractStreamOperator<OUT>
        implements OneInputStreamOperator<Event, OUT>, BoundedOneInput, ProcessingTimeCallback {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<FailedEvent> FAILED = new OutputTag<>("udf-failed", TypeInformation.of(FailedEvent.class));
    /** Events processed into tasks, for a fan-out to other consumers. */
    public static final OutputTag<Event> PROCESSED = new OutputTag<>("udf-processed", TypeInformation.of(Event.class));

    /** Timed-out calls still running (ignoring their interrupt) at which the stage stops calling. */
    static final int MAX_ABANDONED_THREADS = 4;
    static final long ABANDONED_RECHECK_MS = 1_000;

    /** Transient failures went on past {@code max_retries}. */
    public static final String RETRIES_EXHAUSTED = DeadLetterReason.RETRIES_EXHAUSTED.name();
    /** The UDF returned a result list that does not match its batch. */
    public static final String UDF_CONTRACT_VIOLATED = DeadLetterReason.UDF_CONTRACT_VIOLATED.name();

    private final BatchUdf udf;
    private final TaskEncoder<OUT> encoder;
    private final BatchUdfSettings settings;
    private final Map<String, String> params;
    private final boolean emitProcessed;
    private final InputPause inputPause;

    private transient Deque<PendingEvent> fresh;
    private transient Deque<PendingEvent> retryReady;
    private transient PriorityQueue<PendingEvent> waiting;
    private transient ListState<PendingEvent> state;
    /** The rate limiter's buckets, of all subtasks (union): a restore must not grant a fresh burst. */
    private transient ListState<RateLimitTokens> rateState;
    private transient List<RateLimitTokens> restoredTokens;
    /** The canary, so that a restarted stage can still tell poison from an outage. */
    private transient ListState<Event> canaryState;
    private transient List<PendingEvent> failureStreak;
    private transient java.util.Set<String> streakEvents;
    private transient CircuitBreaker breaker;
    private transient TaskRateLimiter rateLimiter;
    private transient RetryBackoff backoff;
    private transient ExecutorService executor;
    private transient TypeSerializer<Event> eventCopier;
    private transient StreamRecord<OUT> reuse;
    private transient long timerAt;
    /** Threads of timed-out calls that are still running. */
    private transient List<Thread> abandoned;
    private transient boolean warnedAbandoned;
    /** The last event the UDF processed into tasks: the canary that tells poison from an outage. */
    private transient Event lastProcessed;
    /** With a rate limit: processed events whose tasks wait for it, in order. */
    private transient Deque<Emission> emitting;
    /** The head task of {@link #emitting} holds its rate-limit token and goes out at this time; 0: no token yet. */
    private transient long headEmitsAt;
    private transient org.apache.flink.api.common.operators.MailboxExecutor mailbox;
    private transient InputPause.Switch input;
    private transient boolean inputLookedUp;
    private transient boolean inputPaused;
    private transient boolean finishing;
    /** The batch being called: parts still to call, a failed part split in two at the back. */
    private transient Deque<List<PendingEvent>> parts;
    /** A UDF call was made since this mailbox turn began: the next one waits for the next turn. */
    private transient boolean calledThisTurn;
    private transient boolean nextTurnQueued;
    private transient boolean warnedBlocking;

    private transient Counter eventsIn;
    private transient Counter batches;
    private transient Counter failedCalls;
    private transient Counter retries;
    private transient Counter timeouts;
    private transient Counter poisonSplits;
    private transient Counter retriesExhausted;
    private transient Counter eventsFailed;
    private transient Counter eventsProcessed;
    private transient Counter tasksEncoded;
    private transient Counter rateLimitWaitMs;
    private transient Counter circuitOpened;
    private transient Counter canaryCalls;

    /**
     * @param params the UDF's settings ({@link UdfContext#params()})
     * @param emitProcessed also emit each processed event to {@link #PROCESSED}
     */
    public BatchUdfOperator(BatchUdf udf, TaskEncoder<OUT> encoder, BatchUdfSettings settings,
            Map<String, String> params, boolean emitProcessed) {
        this(udf, encoder, settings, params, emitProcessed, InputPause.NONE);
    }

    /** @param inputPause how to stop the input without blocking while the buffer is full */
    public BatchUdfOperator(BatchUdf udf, TaskEncoder<OUT> encoder, BatchUdfSettings settings,
            Map<String, String> params, boolean emitProcessed, InputPause inputPause) {
        this.inputPause = inputPause;
        this.udf = udf;
        this.encoder = encoder;
        this.settings = settings;
        this.params = Map.copyOf(params);
        this.emitProcessed = emitProcessed;
        this.chainingStrategy = ChainingStrategy.ALWAYS;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        fresh = new ArrayDeque<>();
        emitting = new ArrayDeque<>();
        parts = new ArrayDeque<>();
        retryReady = new ArrayDeque<>();
        waiting = new PriorityQueue<>(Comparator.comparingLong(PendingEvent::getNotBefore));
        state = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("pending-events", TypeInformation.of(PendingEvent.class)));
        for (PendingEvent p : state.get()) {
            (p.getNotBefore() > 0 ? waiting : fresh).add(p);
        }
        rateState = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("rate-limit-tokens", TypeInformation.of(RateLimitTokens.class)));
        restoredTokens = new ArrayList<>();
        rateState.get().forEach(restoredTokens::add);
        // Union: after a rescale every subtask gets one (any subtask's will do: each was processed).
        canaryState = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("canary-event", TypeInformation.of(Event.class)));
        for (Event e : canaryState.get()) {
            lastProcessed = e;
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        MetricGroup g = getMetricGroup();
        eventsIn = g.counter("udfEventsIn");
        batches = g.counter("udfBatches");
        failedCalls = g.counter("udfFailedCalls");
        retries = g.counter("udfRetries");
        timeouts = g.counter("udfTimeouts");
        poisonSplits = g.counter("udfBatchSplits");
        retriesExhausted = g.counter("udfRetriesExhausted");
        eventsFailed = g.counter("udfEventsFailed");
        eventsProcessed = g.counter("udfEventsProcessed");
        tasksEncoded = g.counter("tasksEncoded");
        rateLimitWaitMs = g.counter("rateLimitWaitMs");
        circuitOpened = g.counter("circuitOpened");
        canaryCalls = g.counter("udfCanaryCalls");
        g.gauge("circuitState", () -> breaker.state().ordinal());
        g.gauge("udfBuffered", this::buffered);
        g.gauge("udfInputPaused", () -> inputPaused ? 1 : 0);
        g.gauge("udfAbandonedThreads", () -> abandoned.stream().filter(Thread::isAlive).count());

        abandoned = new java.util.concurrent.CopyOnWriteArrayList<>();
        failureStreak = new ArrayList<>();
        streakEvents = new java.util.HashSet<>();
        breaker = new CircuitBreaker(settings.breakerThreshold, settings.breakerOpenForMs);
        int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        rateLimiter = settings.rateLimit > 0 ? new TaskRateLimiter(settings.rateLimit, settings.rateWindowMs, parallelism) : null;
        if (rateLimiter != null && !restoredTokens.isEmpty()) {
            rateLimiter.restore(restoredTokens, now(), nowNanos());
        }
        restoredTokens = null; // applied
        backoff = new RetryBackoff(settings.backoffMs, settings.maxBackoffMs);
        executor = newExecutor();
        eventCopier = getExecutionConfig().isObjectReuseEnabled()
                ? TypeInformation.of(Event.class).createSerializer(getExecutionConfig().getSerializerConfig()) : null;
        reuse = new StreamRecord<>(null);
        timerAt = Long.MAX_VALUE;
        mailbox = getContainingTask().getMailboxExecutorFactory().createExecutor(getOperatorConfig().getChainIndex());

        MetricGroup udfGroup = g.addGroup("udf");
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        udf.open(new UdfContext() {
            @Override
            public MetricGroup metricGroup() {
                return udfGroup;
            }

            @Override
            public Map<String, String> params() {
                return params;
            }

            @Override
            public int subtaskIndex() {
                return subtask;
            }

            @Override
            public int parallelism() {
                return parallelism;
            }
        });
        if (buffered() > 0) {
            schedule(now());
        }
    }

    @Override
    public void processElement(StreamRecord<Event> element) throws Exception {
        eventsIn.inc();
        Event event = eventCopier == null ? element.getValue() : eventCopier.copy(element.getValue());
        fresh.add(new PendingEvent(event, now()));
        drain();
        if (buffered() >= settings.maxBuffered && !pauseInput()) {
            // No source to pause: backpressure by not returning. Timers (retries, the circuit, the
            // rate limit) are this operator's mails, so yielding runs them until there is room.
            if (!warnedBlocking) {
                warnedBlocking = true;
                LOG.warn("the processing stage's buffer is full ({} events) and no source runs in its task to pause: it "
                        + "backpressures by blocking, and checkpoint barriers wait until it has room", settings.maxBuffered);
            }
            while (buffered() >= settings.maxBuffered) {
                mailbox.yield();
            }
        }
    }

    @Override
    public void onProcessingTime(long time) throws Exception {
        timerAt = Long.MAX_VALUE;
        drain();
    }

    /** At the end of bounded input every held event is processed, retries included. */
    @Override
    public void endInput() throws Exception {
        finishing = true;
        drain();
        while (buffered() > 0) {
            mailbox.yield();
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<PendingEvent> all = new ArrayList<>(buffered());
        emitting.forEach(e -> all.add(e.event));
        parts.forEach(all::addAll);
        all.addAll(retryReady);
        all.addAll(waiting);
        all.addAll(fresh);
        state.update(all);
        rateState.update(rateLimiter == null ? List.of() : rateLimiter.tokens(nowNanos(), now()));
        canaryState.update(lastProcessed == null ? List.of() : List.of(lastProcessed));
    }

    @Override
    public void close() throws Exception {
        try {
            udf.close();
        } finally {
            if (executor != null) {
                executor.shutdownNow();
            }
            super.close();
        }
    }

    private int buffered() {
        if (fresh == null) {
            return 0;
        }
        int n = fresh.size() + retryReady.size() + waiting.size() + emitting.size();
        for (List<PendingEvent> part : parts) {
            n += part.size();
        }
        return n;
    }

    /** Pauses the chained source, if there is one: true if the input is paused. */
    private boolean pauseInput() {
        if (!inputLookedUp) {
            input = inputPause.ofCurrentTask(); // the source registers it when its reader is created
            inputLookedUp = true;
        }
        if (input == null) {
            return false;
        }
        if (!inputPaused) {
            inputPaused = true;
            input.pause();
        }
        return true;
    }

    /**
     * Runs every batch that is due and emits what the rate limit allows, then leaves a timer for
     * what comes due next and resumes the input once there is room.
     */
    private void drain() throws Exception {
        calledThisTurn = false;
        drainDue();
        if (inputPaused && buffered() < settings.maxBuffered) {
            inputPaused = false;
            input.resume();
        }
    }

    private void drainDue() throws Exception {
        while (buffered() > 0) {
            if (!emitQueued()) {
                return; // the rate limit's timer continues; new batches would only queue behind it
            }
            if (!parts.isEmpty()) {
                runParts();
                if (!parts.isEmpty()) {
                    return; // the next turn continues
                }
                continue;
            }
            long now = now();
            long next;
            if (!breaker.allowsCall(now)) {
                next = breaker.openUntil();
            } else if (!callsAllowed()) {
                next = now + ABANDONED_RECHECK_MS;
            } else {
                for (PendingEvent p; (p = waiting.peek()) != null && p.getNotBefore() <= now; ) {
                    retryReady.add(waiting.poll());
                }
                int ready = retryReady.size() + fresh.size();
                boolean probe = breaker.state() == CircuitBreaker.State.HALF_OPEN && ready > 0;
                boolean lingered = !fresh.isEmpty() && fresh.peek().getArrivedAt() + settings.maxLingerMs <= now;
                if (probe || ready >= settings.batchSize || !retryReady.isEmpty() || lingered || (finishing && ready > 0)) {
                    if (calledThisTurn) {
                        callNextTurn();
                        return;
                    }
                    batches.inc();
                    parts.add(probe ? List.of(probe()) : takeBatch());
                    continue;
                }
                next = Math.min(fresh.isEmpty() ? Long.MAX_VALUE : fresh.peek().getArrivedAt() + settings.maxLingerMs,
                        waiting.isEmpty() ? Long.MAX_VALUE : waiting.peek().getNotBefore());
            }
            if (next != Long.MAX_VALUE) {
                schedule(next);
            }
            return;
        }
    }

    /** One event to probe a half-open circuit with: a new one if any, since a retried one may be the culprit. */
    private PendingEvent probe() {
        return fresh.isEmpty() ? retryReady.poll() : fresh.poll();
    }

    private List<PendingEvent> takeBatch() {
        List<PendingEvent> batch = new ArrayList<>(Math.min(settings.batchSize, retryReady.size() + fresh.size()));
        while (batch.size() < settings.batchSize && !retryReady.isEmpty()) {
            batch.add(retryReady.poll());
        }
        while (batch.size() < settings.batchSize && !fresh.isEmpty()) {
            batch.add(fresh.poll());
        }
        return batch;
    }

    /**
     * Another call must wait for the next mailbox turn, so that a checkpoint barrier (or any other
     * mail) queued meanwhile goes first: the task thread is held for one call at a time.
     */
    private void callNextTurn() {
        if (!nextTurnQueued) {
            nextTurnQueued = true;
            mailbox.execute(() -> {
                nextTurnQueued = false;
                drain();
            }, "process-batches: next UDF call");
        }
    }

    /**
     * Calls the UDF on the parts of the current batch, one call per mailbox turn; a failed part is
     * split breadth-first until its failing events are alone.
     */
    private void runParts() throws Exception {
        while (!parts.isEmpty()) {
            if (calledThisTurn) {
                callNextTurn();
                return;
            }
            List<PendingEvent> part = parts.poll();
            if (!breaker.allowsCall(now()) || !callsAllowed()) {
                hold(part);
                return;
            }
            calledThisTurn = true;
            List<UdfResult> results = null;
            String failure = null;
            try {
                results = call(part);
            } catch (UdfCallFailed e) {
                failure = e.getMessage();
            }
            if (results != null && (results.size() != part.size() || results.contains(null))) {
                for (PendingEvent p : part) {
                    fail(p, UDF_CONTRACT_VIOLATED, udf.getClass().getName() + " returned " + results.size()
                            + " results (or a null one) for " + part.size() + " events");
                }
                continue;
            }
            if (results != null && results.stream().allMatch(r -> r.kind() == UdfResult.Kind.RETRY)) {
                failure = results.get(0).detail();
            }
            if (failure != null) {
                failedCalls.inc();
                part.forEach(p -> streakEvents.add(p.getEvent().getId()));
                boolean opened = breaker.onFailure(now());
                if (opened && streakEvents.size() > 1 && dependencyAnswers()) {
                    // The UDF still processes an event it processed before: the failures are these
                    // events' own (a cluster of poison), not an outage. Keep isolating them, and let
                    // them spend their attempts, so they reach the DLQ instead of reopening the circuit forever.
                    breaker.onSuccess();
                    failureStreak.clear();
                    streakEvents.clear();
                    opened = false;
                }
                if (opened) {
                    circuitOpened.inc();
                    LOG.warn("circuit opened after {} consecutive failed UDF calls; calls pause for {} ms (last failure: {})",
                            settings.breakerThreshold, settings.breakerOpenForMs, failure);
                }
                if (opened && streakEvents.size() > 1) {
                    // Different events failing in a row: the dependency is down, not the events. Refund.
                    for (PendingEvent p : failureStreak) {
                        p.setAttempts(p.getAttempts() - 1);
                    }
                    failureStreak.clear();
                    hold(part);
                    return;
                }
                if (results == null && part.size() > 1) {
                    poisonSplits.inc();
                    parts.add(part.subList(0, part.size() / 2));
                    parts.add(part.subList(part.size() / 2, part.size()));
                    continue;
                }
                for (PendingEvent p : part) {
                    retryLater(p, failure);
                }
                if (opened) {
                    hold(List.of());
                    return;
                }
                continue;
            }
            breaker.onSuccess();
            failureStreak.clear();
            streakEvents.clear();
            complete(part, results);
        }
    }

    /**
     * Calls the UDF with the last event it processed (the canary): true if it answers for it, i.e.
     * the dependency is up. The UDF contract allows an event to be processed more than once (a
     * failed batch is retried and split), and what the canary yields is dropped.
     */
    private boolean dependencyAnswers() throws Exception {
        if (lastProcessed == null) {
            return false; // nothing known to be good: the failures may well be an outage
        }
        canaryCalls.inc();
        try {
            List<UdfResult> results = call(List.of(new PendingEvent(lastProcessed, now())));
            return results.size() == 1 && results.get(0) != null && results.get(0).kind() != UdfResult.Kind.RETRY;
        } catch (UdfCallFailed e) {
            return false;
        }
    }

    /**
     * False while {@link #MAX_ABANDONED_THREADS} timed-out calls are still running (a UDF that
     * ignores interrupts): each further timeout would leak one more thread, so calls wait, as with
     * an open circuit, until one ends. Events are held, not dead-lettered: the fault is the UDF's.
     */
    private boolean callsAllowed() {
        if (abandoned.isEmpty()) {
            return true; // the usual case, once per call: no scan
        }
        abandoned.removeIf(t -> !t.isAlive());
        if (abandoned.size() < MAX_ABANDONED_THREADS) {
            warnedAbandoned = false;
            return true;
        }
        if (!warnedAbandoned) {
            warnedAbandoned = true;
            LOG.warn("{} UDF calls still run after task_timeout ({} ms) and ignored their interrupt; no more calls until one "
                    + "ends (metric udfAbandonedThreads). Make the UDF honour interrupts, or raise task_timeout",
                    abandoned.size(), settings.taskTimeoutMs);
        }
        return false;
    }

    /** The circuit is open: events of the call and of the parts still to do wait, unspent, at the front. */
    private void hold(List<PendingEvent> part) {
        List<PendingEvent> back = new ArrayList<>(part);
        parts.forEach(back::addAll);
        parts.clear();
        for (int i = back.size() - 1; i >= 0; i--) {
            retryReady.addFirst(back.get(i));
        }
    }

    private List<UdfResult> call(List<PendingEvent> part) throws Exception {
        List<Event> events = new ArrayList<>(part.size());
        for (PendingEvent p : part) {
            events.add(p.getEvent());
        }
        java.util.concurrent.atomic.AtomicReference<Thread> runner = new java.util.concurrent.atomic.AtomicReference<>();
        Future<List<UdfResult>> future = executor.submit(() -> {
            runner.set(Thread.currentThread());
            return udf.process(events);
        });
        List<UdfResult> results;
        try {
            results = future.get(settings.taskTimeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            // A UDF that ignores the interrupt keeps its thread; the stage moves on with a new one,
            // and counts the old one until it ends (see callsAllowed).
            executor.shutdownNow();
            executor = newExecutor();
            Thread t = runner.get();
            if (t != null) {
                abandoned.add(t);
            }
            timeouts.inc();
            throw new UdfCallFailed("timed out after " + settings.taskTimeoutMs + " ms (task_timeout)");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new UdfCallFailed(cause.getClass().getSimpleName() + ": " + cause.getMessage());
        }
        if (results == null) {
            return java.util.Arrays.asList(new UdfResult[part.size()]); // reported as a contract violation
        }
        return results;
    }

    /**
     * Applies a call's results. All tasks of an event are encoded before any is emitted, so an
     * event yields all its tasks or a dead letter. A task object shared by several events (one
     * Celery task for a whole batch) is encoded and emitted once.
     */
    private void complete(List<PendingEvent> part, List<UdfResult> results) throws Exception {
        Map<CeleryTask, Object> encoded = new java.util.IdentityHashMap<>(); // task -> OUT or TaskRejectedException
        List<PendingEvent> succeeded = new ArrayList<>(part.size());
        List<List<CeleryTask>> tasksOf = new ArrayList<>(part.size());
        for (int i = 0; i < part.size(); i++) {
            PendingEvent p = part.get(i);
            UdfResult result = results.get(i);
            if (result.kind() == UdfResult.Kind.RETRY) {
                retryLater(p, result.detail());
                continue;
            }
            if (result.kind() == UdfResult.Kind.FAIL) {
                fail(p, result.reason(), result.detail());
                continue;
            }
            TaskRejectedException rejected = null;
            for (CeleryTask t : result.tasks()) {
                Object e = encoded.computeIfAbsent(t, task -> {
                    try {
                        return encoder.encode(task, p.getEvent());
                    } catch (TaskRejectedException ex) {
                        return ex;
                    }
                });
                if (e instanceof TaskRejectedException && rejected == null) {
                    rejected = (TaskRejectedException) e;
                }
            }
            if (rejected != null) {
                fail(p, rejected.reason(), rejected.getMessage());
            } else {
                succeeded.add(p);
                tasksOf.add(result.tasks());
            }
        }
        if (!succeeded.isEmpty()) {
            lastProcessed = succeeded.get(succeeded.size() - 1).getEvent();
        }
        java.util.Set<CeleryTask> emitted = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (int i = 0; i < succeeded.size(); i++) {
            Emission e = rateLimiter == null ? null : new Emission(succeeded.get(i));
            for (CeleryTask t : tasksOf.get(i)) {
                if (!emitted.add(t)) {
                    continue;
                }
                if (e != null) {
                    e.add(encoded.get(t), t.name());
                } else {
                    emit(encoded.get(t));
                }
            }
            if (e != null) {
                emitting.add(e);
            } else {
                processed(succeeded.get(i));
            }
        }
        emitQueued();
    }

    private void emit(Object task) {
        @SuppressWarnings("unchecked")
        OUT out = (OUT) task;
        output.collect(reuse.replace(out));
        tasksEncoded.inc();
    }

    /** All of the event's tasks are out. */
    private void processed(PendingEvent p) {
        eventsProcessed.inc();
        if (emitProcessed) {
            output.collect(PROCESSED, new StreamRecord<>(p.getEvent()));
        }
    }

    /**
     * Emits the queued tasks in order as far as the rate limit allows: true when all are out.
     * Otherwise the head task holds its token and a timer is set for its time.
     */
    private boolean emitQueued() {
        for (Emission e; (e = emitting.peek()) != null; emitting.poll()) {
            for (; e.next < e.outs.size(); e.next++) {
                if (rateLimiter != null) {
                    long now = now();
                    if (headEmitsAt == 0) {
                        long waitMs = TimeUnit.NANOSECONDS.toMillis(rateLimiter.reserve(e.names.get(e.next), nowNanos()) + 999_999);
                        headEmitsAt = now + waitMs;
                        rateLimitWaitMs.inc(waitMs);
                    }
                    if (headEmitsAt > now) {
                        schedule(headEmitsAt);
                        return false;
                    }
                    headEmitsAt = 0;
                }
                emit(e.outs.get(e.next));
            }
            processed(e.event);
        }
        return true;
    }

    private void retryLater(PendingEvent p, String error) {
        failedNow(p);
        p.setAttempts(p.getAttempts() + 1);
        p.setLastError(error);
        if (p.getAttempts() > settings.maxRetries) {
            retriesExhausted.inc();
            fail(p, RETRIES_EXHAUSTED, "gave up after " + p.getAttempts() + " attempts; last error: " + error);
            return;
        }
        failureStreak.add(p);
        retries.inc();
        p.setNotBefore(now() + backoff.delayMs(p.getAttempts()));
        waiting.add(p);
    }

    private void fail(PendingEvent p, String reason, String detail) {
        failedNow(p);
        eventsFailed.inc();
        int calls = p.getAttempts() + (RETRIES_EXHAUSTED.equals(reason) ? 0 : 1);
        output.collect(FAILED, new StreamRecord<>(new FailedEvent(p.getEvent(), reason, detail, calls, p.getFirstFailedAt())));
    }

    /** Remembers the first failure, for the dead letter's first-failure time. */
    private void failedNow(PendingEvent p) {
        if (p.getFirstFailedAt() == 0) {
            p.setFirstFailedAt(now());
        }
    }

    private void schedule(long time) {
        if (time < timerAt) {
            timerAt = time;
            getProcessingTimeService().registerTimer(time, this);
        }
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }

    /** The rate limiter's clock: processing time, so that its waits and the timers agree. */
    private long nowNanos() {
        return TimeUnit.MILLISECONDS.toNanos(now());
    }

    private ExecutorService newExecutor() {
        return Executors.newSingleThreadExecutor(new ExecutorThreadFactory("udf-" + udf.getClass().getSimpleName()));
    }

    /** A processed event and its encoded tasks, emitted in order as the rate limit allows. */
    private static final class Emission {
        final PendingEvent event;
        final List<Object> outs = new ArrayList<>(1);
        final List<String> names = new ArrayList<>(1);
        int next;

        Emission(PendingEvent event) {
            this.event = event;
        }

        void add(Object out, String name) {
            outs.add(out);
            names.add(name);
        }
    }

    /** A call that failed as a whole: thrown, timed out. */
    private static final class UdfCallFailed extends Exception {
        private static final long serialVersionUID = 1L;

        UdfCallFailed(String message) {
            super(message, null, false, false);
        }
    }
}
