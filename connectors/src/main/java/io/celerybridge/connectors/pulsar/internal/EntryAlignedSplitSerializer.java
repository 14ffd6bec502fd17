package io.celerybridge.connectors.pulsar.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.connector.pulsar.source.split.PulsarPartitionSplit;
import org.apache.flink.connector.pulsar.source.split.PulsarPartitionSplitSerializer;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.MessageIdAdv;
import org.apache.pulsar.client.impl.MessageIdImpl;

import java.io.IOException;
import java.util.function.Consumer;

/**
 * The connector's split serializer, with one change on the way IN: a split whose last consumed
 * message sits in the MIDDLE of a batch is restored as if only the entry BEFORE that batch had
 * been consumed.
 *
 * <p>Why: flink-connector-pulsar 4.1.0 restores a split by seeking exclusively past its last
 * consumed id, and for a batch message id it drops the batch index and seeks to the next entry,
 * so the rest of that batch is never read (FLINK-36180). Restoring one entry earlier makes the
 * connector seek to the batch's own entry: the whole batch is read again, the part already
 * emitted before the checkpoint arrives twice, and the idempotent enqueue drops those repeats.
 * At-least-once into the pipeline, nothing lost. Splits are written unchanged, so checkpoints
 * stay readable by the plain connector. Drop this once a connector release contains the fix.
 *
 * <p>Every path a split takes into a reader goes through the source's split serializer: restored
 * reader state and the enumerator's split assignments alike.
 */
@Internal
public final class EntryAlignedSplitSerializer implements SimpleVersionedSerializer<PulsarPartitionSplit> {

    /** Told each realigned position (a test sees that restores hit the case); null in production. */
    @VisibleForTesting
    public static volatile Consumer<String> onRealigned;

    private final SimpleVersionedSerializer<PulsarPartitionSplit> delegate;

    public EntryAlignedSplitSerializer(SimpleVersionedSerializer<PulsarPartitionSplit> delegate) {
        this.delegate = delegate;
    }

    public EntryAlignedSplitSerializer() {
        this(PulsarPartitionSplitSerializer.INSTANCE);
    }

    @Override
    public int getVersion() {
        return delegate.getVersion();
    }

    @Override
    public byte[] serialize(PulsarPartitionSplit split) throws IOException {
        return delegate.serialize(split);
    }

    @Override
    public PulsarPartitionSplit deserialize(int version, byte[] serialized) throws IOException {
        return realign(delegate.deserialize(version, serialized));
    }

    static PulsarPartitionSplit realign(PulsarPartitionSplit split) {
        MessageId consumed = split.getLatestConsumedId();
        if (!(consumed instanceof MessageIdAdv)) {
            return split;
        }
        MessageIdAdv id = (MessageIdAdv) consumed;
        boolean inBatch = id.getBatchIndex() >= 0;
        boolean lastOfBatch = id.getBatchSize() > 0 && id.getBatchIndex() >= id.getBatchSize() - 1;
        if (!inBatch || lastOfBatch || id.getFirstChunkMessageId() != null) {
            return split;
        }
        Consumer<String> listener = onRealigned;
        if (listener != null) {
            listener.accept(split.getPartition() + "@" + id.getLedgerId() + ":" + id.getEntryId() + ":" + id.getBatchIndex());
        }
        // entry - 1 may be -1: the connector then seeks to entry 0 of the ledger, still this batch.
        MessageId entryBefore = new MessageIdImpl(id.getLedgerId(), id.getEntryId() - 1, id.getPartitionIndex());
        return new PulsarPartitionSplit(split.getPartition(), split.getStopCursor(), entryBefore, split.getUncommittedTransactionId());
    }
}
