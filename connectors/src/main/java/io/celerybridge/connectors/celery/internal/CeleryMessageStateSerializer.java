package io.celerybridge.connectors.celery.internal;

import io.celerybridge.connectors.celery.CeleryMessage;

import org.apache.flink.annotation.Internal;
import org.apache.flink.connector.base.sink.writer.AsyncSinkWriterStateSerializer;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Buffered messages in checkpoint state. Strings are length-prefixed: envelopes can exceed writeUTF's 64 KB. */
@Internal
public final class CeleryMessageStateSerializer extends AsyncSinkWriterStateSerializer<CeleryMessage> {

    @Override
    protected void serializeRequestToStream(CeleryMessage m, DataOutputStream out) throws IOException {
        write(out, m.taskId());
        write(out, m.dedupKey());
        write(out, m.queueKey());
        write(out, m.listKey());
        write(out, m.envelope());
        out.writeLong(m.sourceTimestamp());
        // v3: a batch task also carries its members' keys and the task, to be re-encoded without some.
        out.writeInt(m.memberDedupKeys().size());
        for (String k : m.memberDedupKeys()) {
            write(out, k);
        }
        if (m.batchTask() != null) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            try (java.io.ObjectOutputStream o = new java.io.ObjectOutputStream(bytes)) {
                o.writeObject(m.batchTask());
            }
            out.writeInt(bytes.size());
            bytes.writeTo(out);
        }
    }

    private transient int reading = 3;

    @Override
    public org.apache.flink.connector.base.sink.writer.BufferedRequestState<CeleryMessage> deserialize(int version, byte[] serialized)
            throws IOException {
        reading = version;
        return super.deserialize(version, serialized);
    }

    @Override
    protected CeleryMessage deserializeRequestFromStream(long requestSize, DataInputStream in) throws IOException {
        CeleryMessage m = new CeleryMessage(read(in), read(in), read(in), read(in), read(in), in.readLong());
        int members = reading < 3 ? 0 : in.readInt();
        if (members == 0) {
            return m;
        }
        java.util.List<String> keys = new java.util.ArrayList<>(members);
        for (int i = 0; i < members; i++) {
            keys.add(read(in));
        }
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        try (java.io.ObjectInputStream o = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(b))) {
            return m.withBatch(keys, (io.celerybridge.connectors.celery.CeleryTask) o.readObject());
        } catch (ClassNotFoundException e) {
            throw new IOException(e);
        }
    }

    @Override
    public int getVersion() {
        return 3;
    }

    private static void write(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String read(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
