package io.celerybridge.connectors.pulsar.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.annotation.Nullable;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;

/**
 * A split enumerator created and closed on a thread of its own.
 *
 * <p>Flink creates and closes a source's enumerator on the JobManager's RPC (Pekko) threads, which
 * outlive the job. The Pulsar enumerator builds and closes a Pulsar admin client there, and the
 * client's shaded netty leaves its thread-local map (a class of the job's class loader) on that
 * thread: found in a JobManager heap dump as the only root of every finished job's class loader,
 * about 27 MB of metaspace each. A short-lived thread takes those thread-locals with it. Everything
 * else runs where Flink calls it (the coordinator's own thread, which ends with the job). The
 * classes the client needs to close are loaded when it is created, and the close is bounded (see
 * {@link PulsarClientClosingClasses}).
 */
@Internal
public final class FreshThreadSplitEnumerator<SplitT extends SourceSplit, CheckpointT>
        implements SplitEnumerator<SplitT, CheckpointT> {

    private static final Logger LOG = LoggerFactory.getLogger(FreshThreadSplitEnumerator.class);

    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private final SplitEnumerator<SplitT, CheckpointT> delegate;

    private FreshThreadSplitEnumerator(SplitEnumerator<SplitT, CheckpointT> delegate) {
        this.delegate = delegate;
    }

    /** Creates the enumerator on a fresh thread and wraps it. */
    public static <SplitT extends SourceSplit, CheckpointT> SplitEnumerator<SplitT, CheckpointT> create(
            Callable<SplitEnumerator<SplitT, CheckpointT>> factory) throws Exception {
        SplitEnumerator<SplitT, CheckpointT> enumerator = FreshThread.call(factory, "pulsar-enumerator-create");
        PulsarClientClosingClasses.load();
        return new FreshThreadSplitEnumerator<>(enumerator);
    }

    @Override
    public void start() {
        delegate.start();
    }

    @Override
    public void handleSplitRequest(int subtaskId, @Nullable String requesterHostname) {
        delegate.handleSplitRequest(subtaskId, requesterHostname);
    }

    @Override
    public void addSplitsBack(List<SplitT> splits, int subtaskId) {
        delegate.addSplitsBack(splits, subtaskId);
    }

    @Override
    public void addReader(int subtaskId) {
        delegate.addReader(subtaskId);
    }

    @Override
    public CheckpointT snapshotState(long checkpointId) throws Exception {
        return delegate.snapshotState(checkpointId);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        delegate.notifyCheckpointComplete(checkpointId);
    }

    @Override
    public void notifyCheckpointAborted(long checkpointId) throws Exception {
        delegate.notifyCheckpointAborted(checkpointId);
    }

    @Override
    public void handleSourceEvent(int subtaskId, SourceEvent sourceEvent) {
        delegate.handleSourceEvent(subtaskId, sourceEvent);
    }

    /**
     * Closes on a fresh thread, waiting at most {@link #CLOSE_TIMEOUT}: Flink may close the job's
     * class loader while this runs (see {@link PulsarClientClosingClasses}), and a close stuck on a
     * dead client would keep that loader for good. Past the timeout the closing thread is interrupted.
     */
    @Override
    public void close() throws IOException {
        try {
            FreshThread.call(() -> {
                delegate.close();
                return null;
            }, "pulsar-enumerator-close", CLOSE_TIMEOUT);
        } catch (TimeoutException e) {
            // Flink's SourceCoordinator closes the enumerator quietly: say it here.
            LOG.warn("The Pulsar split enumerator did not close within {} s; its closing thread was interrupted",
                    CLOSE_TIMEOUT.toSeconds());
            throw new IOException("The Pulsar split enumerator did not close within " + CLOSE_TIMEOUT.toSeconds()
                    + " s; its closing thread was interrupted", e);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }
}
