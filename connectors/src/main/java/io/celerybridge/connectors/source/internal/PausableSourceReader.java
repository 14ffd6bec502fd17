package io.celerybridge.connectors.source.internal;

import io.celerybridge.connectors.source.SourcePause;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.core.io.InputStatus;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A reader that reports nothing available while its {@link SourcePause} is paused; otherwise the delegate. */
@Internal
public final class PausableSourceReader<T, S extends SourceSplit> implements SourceReader<T, S> {
    private final SourceReader<T, S> delegate;
    private final SourcePause pause;
    private final Runnable onClose;

    public PausableSourceReader(SourceReader<T, S> delegate, SourcePause pause, Runnable onClose) {
        this.delegate = delegate;
        this.pause = pause;
        this.onClose = onClose;
    }

    @Override
    public void start() {
        delegate.start();
    }

    @Override
    public InputStatus pollNext(ReaderOutput<T> output) throws Exception {
        return pause.isPaused() ? InputStatus.NOTHING_AVAILABLE : delegate.pollNext(output);
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
        CompletableFuture<Void> resumed = pause.resumed();
        return resumed != null ? resumed : delegate.isAvailable();
    }

    @Override
    public List<S> snapshotState(long checkpointId) {
        return delegate.snapshotState(checkpointId);
    }

    @Override
    public void addSplits(List<S> splits) {
        delegate.addSplits(splits);
    }

    @Override
    public void notifyNoMoreSplits() {
        delegate.notifyNoMoreSplits();
    }

    @Override
    public void handleSourceEvents(SourceEvent sourceEvent) {
        delegate.handleSourceEvents(sourceEvent);
    }

    @Override
    public void pauseOrResumeSplits(Collection<String> splitsToPause, Collection<String> splitsToResume) {
        delegate.pauseOrResumeSplits(splitsToPause, splitsToResume);
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
    public void close() throws Exception {
        try {
            delegate.close();
        } finally {
            onClose.run();
        }
    }
}
