package io.celerybridge.udfs.route;

import io.celerybridge.connectors.celery.CeleryTask;
import io.celerybridge.connectors.celery.CeleryTaskIds;
import io.celerybridge.udfs.Event;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.functions.MapFunction;

/**
 * One task per event: {@code <task>(event=<payload>)} on one queue, with a task id derived from
 * the event id.
 */
@PublicEvolving
public class EventToTaskMapper implements MapFunction<Event, CeleryTask> {
    private static final long serialVersionUID = 1L;

    private final String taskName;
    private final String queue;

    public EventToTaskMapper(String taskName, String queue) {
        this.taskName = taskName;
        this.queue = queue;
    }

    @Override
    public CeleryTask map(Event event) {
        return CeleryTask.builder()
                .id(CeleryTaskIds.forKey(event.getId()))
                .idempotencyKey(event.getId())
                .name(taskName)
                .kwargsJson("{\"event\":" + event.getPayloadJson() + "}")
                .queue(queue)
                .build();
    }
}
