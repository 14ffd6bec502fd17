package io.celerybridge.connectors.pulsar;

import io.celerybridge.connectors.pulsar.internal.EntryAlignedSplitSerializer;
import io.celerybridge.connectors.pulsar.internal.FreshThreadSplitEnumerator;
import io.celerybridge.connectors.source.SourcePause;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.connector.pulsar.source.PulsarSource;
import org.apache.flink.connector.pulsar.source.enumerator.PulsarSourceEnumState;
import org.apache.flink.connector.pulsar.source.split.PulsarPartitionSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * flink-connector-pulsar's {@link PulsarSource}, unchanged except for how splits are restored
 * (see {@link EntryAlignedSplitSerializer}: FLINK-36180, data loss on restore with producer
 * batching) and how the enumerator is created and closed (see {@link FreshThreadSplitEnumerator}:
 * a finished job's class loader kept by the JobManager), and its reader can be paused by an operator
 * chained after it ({@link SourcePause}). Wrap the built source:
 * {@code new BatchSafePulsarSource<>(PulsarSource.builder()...build())}.
 */
@PublicEvolving
public final class BatchSafePulsarSource<OUT>
        implements Source<OUT, PulsarPartitionSplit, PulsarSourceEnumState>, ResultTypeQueryable<OUT> {
    static {
        PulsarNativeTransport.useJavaTransport(); // before any Pulsar client: see PulsarNativeTransport
    }

    private static final long serialVersionUID = 1L;

    private final PulsarSource<OUT> delegate;

    public BatchSafePulsarSource(PulsarSource<OUT> delegate) {
        this.delegate = delegate;
    }

    @Override
    public Boundedness getBoundedness() {
        return delegate.getBoundedness();
    }

    @Override
    public SourceReader<OUT, PulsarPartitionSplit> createReader(SourceReaderContext context) throws Exception {
        return SourcePause.wrap(delegate.createReader(context));
    }

    @Override
    public SplitEnumerator<PulsarPartitionSplit, PulsarSourceEnumState> createEnumerator(
            SplitEnumeratorContext<PulsarPartitionSplit> context) throws Exception {
        return FreshThreadSplitEnumerator.create(() -> delegate.createEnumerator(context));
    }

    @Override
    public SplitEnumerator<PulsarPartitionSplit, PulsarSourceEnumState> restoreEnumerator(
            SplitEnumeratorContext<PulsarPartitionSplit> context, PulsarSourceEnumState checkpoint) throws Exception {
        return FreshThreadSplitEnumerator.create(() -> delegate.restoreEnumerator(context, checkpoint));
    }

    @Override
    public SimpleVersionedSerializer<PulsarPartitionSplit> getSplitSerializer() {
        return new EntryAlignedSplitSerializer(delegate.getSplitSerializer());
    }

    @Override
    public SimpleVersionedSerializer<PulsarSourceEnumState> getEnumeratorCheckpointSerializer() {
        return delegate.getEnumeratorCheckpointSerializer();
    }

    @Override
    public TypeInformation<OUT> getProducedType() {
        return delegate.getProducedType();
    }
}
