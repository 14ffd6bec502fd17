package io.celerybridge.job.internal;

import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.job.config.BridgeOptions;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether checkpoints can complete during a UDF outage with this configuration. The processing
 * stage pauses the source instead of blocking only when it runs in the source's task (chained, at
 * the same parallelism); and one UDF call, with the canary that may follow it, holds the task
 * thread for up to twice {@code task_timeout}. Otherwise checkpoints expire meanwhile (tolerated):
 * nothing is lost, but the job stops confirming progress. Warnings only: the job still runs.
 */
public final class OutageCheckpointCheck {

    private OutageCheckpointCheck() {}

    /**
     * @param chaining Flink's {@code pipeline.operator-chaining.enabled}
     * @param sourceParallelism the Pulsar source's, after any raise to one reader per partition
     * @param dedupParallelism decode's and the idempotency check's
     * @param udfParallelism the processing stage's
     */
    public static List<String> warnings(BridgeConfig config, boolean chaining, int sourceParallelism, int dedupParallelism,
            int udfParallelism, Duration checkpointTimeout) {
        List<String> warnings = new ArrayList<>();
        if (!chaining) {
            warnings.add("operator chaining is off (pipeline.operator-chaining.enabled: false): the processing stage runs in "
                    + "a task of its own, so while a UDF outage fills its buffer it backpressures by blocking, and "
                    + "checkpoints expire until the UDF is back (tolerated; nothing is lost)");
        } else if (dedupParallelism != sourceParallelism || udfParallelism != sourceParallelism) {
            warnings.add("the processing stage does not run in the Pulsar source's task (source parallelism " + sourceParallelism
                    + ", parallelism.dedup " + dedupParallelism + ", parallelism.udf " + udfParallelism + "): while a UDF "
                    + "outage fills its buffer it backpressures by blocking, and checkpoints expire until the UDF is back "
                    + "(tolerated; nothing is lost). Leave both at 0 (they follow the source) to keep checkpoints completing");
        }
        Duration taskTimeout = config.get(BridgeOptions.TASK_TIMEOUT);
        Duration held = taskTimeout.multipliedBy(2);
        if (held.compareTo(checkpointTimeout) >= 0) {
            warnings.add("a UDF call that times out, and the canary call that may follow it, hold the task thread for up to "
                    + "2 x task_timeout = " + held.toMillis() + " ms, not less than the checkpoint timeout ("
                    + checkpointTimeout.toMillis() + " ms): calls that time out make checkpoints expire (tolerated; "
                    + "nothing is lost). Lower task_timeout or raise checkpointing.timeout");
        }
        return warnings;
    }
}
