package io.celerybridge.connectors.pulsar.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.IOException;

/**
 * The enumerator's checkpoint serializer, deserializing on a short-lived thread: Flink restores an
 * enumerator's state on the JobMaster's RPC thread, and reading Pulsar message ids there leaves
 * netty's thread-local map (and with it the job's class loader) on that thread (see
 * {@link FreshThreadSplitEnumerator}).
 */
@Internal
public final class FreshThreadCheckpointSerializer<T> implements SimpleVersionedSerializer<T> {

    private final SimpleVersionedSerializer<T> delegate;

    public FreshThreadCheckpointSerializer(SimpleVersionedSerializer<T> delegate) {
        this.delegate = delegate;
    }

    @Override
    public int getVersion() {
        return delegate.getVersion();
    }

    @Override
    public byte[] serialize(T state) throws IOException {
        return delegate.serialize(state);
    }

    @Override
    public T deserialize(int version, byte[] serialized) throws IOException {
        try {
            return FreshThread.call(() -> delegate.deserialize(version, serialized), "pulsar-enumerator-restore");
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }
}
