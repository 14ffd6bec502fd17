package io.celerybridge.connectors.pulsar.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;

import javax.annotation.Nullable;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * A split enumerator created and closed on a thread of its own.
 *
 * <p>Flink creates and closes a source's enumerator on the JobManager's RPC (Pekko) threads, which
 * outlive the job. The Pulsar enumerator builds and closes a Pulsar admin client there, and the
 * client's shaded netty leaves its thread-local map (a class of the job's class loader) on that
 * thread: found in a JobManager heap dump as the only root of every finished job's class loader,
 * about 27 MB of metaspace each. A short-lived thread takes those thread-locals with it. Everything
 * else runs where Flink calls it (the coordinator's own thread, which ends with the job).
 */
@Internal
public final class FreshThreadSplitEnumerator<SplitT extends SourceSplit, CheckpointT>
        implements SplitEnumerator<SplitT, CheckpointT> {

    private final SplitEnumerator<SplitT, CheckpointT> delegate;

    private FreshThreadSplitEnumerator(SplitEnumerator<SplitT, CheckpointT> delegate) {
        this.delegate = delegate;
    }

    /** Creates the enumerator on a fresh thread and wraps it. */
    public static <SplitT extends SourceSplit, CheckpointT> SplitEnumerator<SplitT, CheckpointT> create(
            Callable<SplitEnumerator<SplitT, CheckpointT>> factory) throws Exception {
        return new FreshThreadSplitEnumerator<>(FreshThread.call(factory, "pulsar-enumerator-create"));
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

    @Override
    public void close() throws IOException {
        try {
            FreshThread.call(() -> {
                delegate.close();
                return null;
            }, "pulsar-enumerator-close");
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }
}
