package io.celerybridge.connectors.source;

import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.core.io.InputStatus;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class SourcePauseTest {

    static final class Split implements SourceSplit {
        @Override
        public String splitId() {
            return "split";
        }
    }

    /** Always has a record; counts its polls. */
    static final class Reader implements SourceReader<Integer, Split> {
        final AtomicInteger polls = new AtomicInteger();
        final CompletableFuture<Void> available = new CompletableFuture<>();
        boolean closed;

        @Override
        public void start() {
        }

        @Override
        public InputStatus pollNext(ReaderOutput<Integer> output) {
            polls.incrementAndGet();
            return InputStatus.MORE_AVAILABLE;
        }

        @Override
        public List<Split> snapshotState(long checkpointId) {
            return new ArrayList<>();
        }

        @Override
        public CompletableFuture<Void> isAvailable() {
            return available;
        }

        @Override
        public void addSplits(List<Split> splits) {
        }

        @Override
        public void notifyNoMoreSplits() {
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void aPausedReaderReportsNothingAvailableUntilResumed() throws Exception {
        Reader reader = new Reader();
        SourceReader<Integer, Split> wrapped = SourcePause.wrap(reader);
        SourcePause pause = SourcePause.ofCurrentThread();
        assertThat(pause).as("registered for the thread that created the reader").isNotNull();
        assertThat(wrapped.pollNext(null)).isEqualTo(InputStatus.MORE_AVAILABLE);

        pause.pause();
        assertThat(wrapped.pollNext(null)).isEqualTo(InputStatus.NOTHING_AVAILABLE);
        CompletableFuture<Void> resumed = wrapped.isAvailable();
        assertThat(resumed).isNotDone().isNotSameAs(reader.available);
        assertThat(reader.polls).as("the delegate is not polled while paused").hasValue(1);

        pause.resume();
        assertThat(resumed).isDone();
        assertThat(wrapped.isAvailable()).isSameAs(reader.available);
        assertThat(wrapped.pollNext(null)).isEqualTo(InputStatus.MORE_AVAILABLE);

        wrapped.close();
        assertThat(reader.closed).isTrue();
        assertThat(SourcePause.ofCurrentThread()).as("gone with its reader").isNull();
    }

    @Test
    void anotherThreadHasNoPause() throws Exception {
        SourceReader<Integer, Split> wrapped = SourcePause.wrap(new Reader());
        SourcePause[] seen = new SourcePause[1];
        Thread t = new Thread(() -> seen[0] = SourcePause.ofCurrentThread());
        t.start();
        t.join();
        assertThat(seen[0]).isNull();
        wrapped.close();
    }
}
