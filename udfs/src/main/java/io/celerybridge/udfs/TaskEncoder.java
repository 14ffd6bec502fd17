package io.celerybridge.udfs;

import io.celerybridge.connectors.celery.CeleryTask;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;

/**
 * Turns a task into what the stage emits (the job encodes Celery messages here). Encoding is part
 * of the stage so that a task no worker could run fails its event, with the reason, before
 * anything of that event is emitted.
 */
@PublicEvolving
@FunctionalInterface
public interface TaskEncoder<OUT> extends Serializable {

    OUT encode(CeleryTask task, Event source) throws TaskRejectedException;
}
