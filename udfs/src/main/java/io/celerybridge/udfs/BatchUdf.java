package io.celerybridge.udfs;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.util.List;

/**
 * User code that turns a batch of events into Celery tasks. The stage around it batches, retries
 * with backoff, times out, isolates poison events, rate-limits and circuit-breaks; the UDF only
 * says, per event, what became of it.
 *
 * <p>Adding a UDF is one class with a public no-argument constructor, named in the
 * configuration as {@code udf.class}; its settings arrive as {@link UdfContext#params()}.
 */
@PublicEvolving
public interface BatchUdf extends Serializable {

    /** Called once per parallel instance before the first batch; connect to dependencies here. */
    default void open(UdfContext context) throws Exception {}

    /**
     * @param events the batch, in arrival order, never empty
     * @return exactly one result per event, in the same order
     * @throws Exception for a failure of the whole batch: treated as transient (the stage narrows
     *     it down to the failing events and retries them)
     */
    List<UdfResult> process(List<Event> events) throws Exception;

    /** Called once when the stage stops; may be called after a failed {@link #open}. */
    default void close() throws Exception {}
}
