package io.celerybridge.job.internal;

import io.celerybridge.job.config.BridgeConfig;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class OutageCheckpointCheckTest {

    private static BridgeConfig config(String... sets) {
        return BridgeConfig.load(null, List.of(sets), Map.of());
    }

    @Test
    void theDefaultsOnOneParallelismKeepCheckpointsCompleting() {
        assertThat(OutageCheckpointCheck.warnings(config(), 2, 2, 2, Duration.ofMinutes(10))).isEmpty();
    }

    @Test
    void aStageOutsideTheSourceTaskIsNamed() {
        assertThat(OutageCheckpointCheck.warnings(config(), 4, 4, 2, Duration.ofMinutes(10)))
                .singleElement().asString().contains("source parallelism 4", "parallelism.dedup 4", "parallelism.udf 2", "checkpoints expire");
        assertThat(OutageCheckpointCheck.warnings(config(), 1, 2, 2, Duration.ofMinutes(10))).as("dedup set apart").hasSize(1);
    }

    @Test
    void callTimeoutsThatOutlastTheCheckpointTimeoutAreNamed() {
        assertThat(OutageCheckpointCheck.warnings(config("task_timeout=30s", "circuit.failure_threshold=5"), 1, 1, 1,
                Duration.ofMinutes(2))).singleElement().asString().contains("6 x 30000 ms = 180000 ms", "(120000 ms)", "task_timeout");
        assertThat(OutageCheckpointCheck.warnings(config("task_timeout=10s", "circuit.failure_threshold=5"), 1, 1, 1,
                Duration.ofMinutes(2))).isEmpty();
    }
}
