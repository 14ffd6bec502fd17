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
    }

    @Override
    protected CeleryMessage deserializeRequestFromStream(long requestSize, DataInputStream in) throws IOException {
        return new CeleryMessage(read(in), read(in), read(in), read(in), read(in), in.readLong());
    }

    @Override
    public int getVersion() {
        return 2;
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
