package io.celerybridge.job.internal;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.metrics.Counter;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The skeleton's stand-in for the DLQ topic: logs each rejected record (reason and message id,
 * never the payload) and counts it. The DLQ PulsarSink replaces it.
 */
public class LogRejectedRecords implements Sink<RejectedRecord> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(LogRejectedRecords.class);

    @Override
    @SuppressWarnings("deprecation")
    public SinkWriter<RejectedRecord> createWriter(InitContext context) {
        Counter rejected = context.metricGroup().counter("rejectedRecords");
        return new SinkWriter<>() {
            @Override
            public void write(RejectedRecord r, Context ctx) {
                rejected.inc();
                LOG.warn("rejected record: stage={} reason={} topic={} messageId={} error={}",
                        r.getStage(), r.getReason(), r.getRecord().getTopic(), r.getRecord().getMessageId(), r.getMessage());
            }

            @Override
            public void flush(boolean endOfInput) {}

            @Override
            public void close() {}
        };
    }
}
