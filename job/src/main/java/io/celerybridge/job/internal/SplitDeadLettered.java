package io.celerybridge.job.internal;

import io.celerybridge.udfs.Event;
import io.celerybridge.udfs.FailedEvent;

import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/** Events already dead-lettered before a restart leave through {@link #DEAD_LETTERED} with their reason; the rest go on. */
public class SplitDeadLettered extends ProcessFunction<Event, Event> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<FailedEvent> DEAD_LETTERED = new OutputTag<>("already-dead-lettered") {};

    @Override
    public void processElement(Event event, Context ctx, Collector<Event> out) {
        if (event.getDeadLetteredAs() == null) {
            out.collect(event);
        } else {
            ctx.output(DEAD_LETTERED, new FailedEvent(event, event.getDeadLetteredAs(),
                    "dead-lettered before a restart with this reason; read again, it is not processed again", 1));
        }
    }
}
