package io.celerybridge.job.internal;

import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.job.config.BridgeOptions;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether checkpoints can complete during a UDF outage with this configuration. The processing
 * stage pauses the source instead of blocking only when it runs in the source's task (the same
 * parallelism); and before the circuit opens, the failing calls (and the canary) each hold the
 * task thread for up to {@code task_timeout}. Either way checkpoints expire meanwhile (tolerated):
 * nothing is lost, but the job stops confirming progress. Warnings only: the job still runs.
 */
public final class OutageCheckpointCheck {

    private OutageCheckpointCheck() {}

    /**
     * @param sourceParallelism the Pulsar source's, after any raise to one reader per partition
     * @param dedupParallelism decode's and the idempotency check's
     * @param udfParallelism the processing stage's
     */
    public static List<String> warnings(BridgeConfig config, int sourceParallelism, int dedupParallelism, int udfParallelism,
            Duration checkpointTimeout) {
        List<String> warnings = new ArrayList<>();
        if (dedupParallelism != sourceParallelism || udfParallelism != sourceParallelism) {
            warnings.add("the processing stage does not run in the Pulsar source's task (source parallelism " + sourceParallelism
                    + ", parallelism.dedup " + dedupParallelism + ", parallelism.udf " + udfParallelism + "): while a UDF "
                    + "outage fills its buffer it backpressures by blocking, and checkpoints expire until the UDF is back "
                    + "(tolerated; nothing is lost). Leave both at 0 (they follow the source) to keep checkpoints completing");
        }
        Duration taskTimeout = config.get(BridgeOptions.TASK_TIMEOUT);
        int calls = config.get(BridgeOptions.CIRCUIT_FAILURE_THRESHOLD) + 1; // the failures that open it, and the canary
        Duration held = taskTimeout.multipliedBy(calls);
        if (held.compareTo(checkpointTimeout) >= 0) {
            warnings.add("calls that time out hold a checkpoint for up to (circuit.failure_threshold + 1) x task_timeout = "
                    + calls + " x " + taskTimeout.toMillis() + " ms = " + held.toMillis() + " ms before the circuit opens, "
                    + "not less than the checkpoint timeout (" + checkpointTimeout.toMillis() + " ms): such an outage makes "
                    + "checkpoints expire (tolerated; nothing is lost). Lower task_timeout or circuit.failure_threshold, "
                    + "or raise checkpointing.timeout");
        }
        return warnings;
    }
}
