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
        assertThat(OutageCheckpointCheck.warnings(config(), true, 2, 2, 2, Duration.ofMinutes(10))).isEmpty();
    }

    @Test
    void aStageOutsideTheSourceTaskIsNamed() {
        assertThat(OutageCheckpointCheck.warnings(config(), true, 4, 4, 2, Duration.ofMinutes(10)))
                .singleElement().asString().contains("source parallelism 4", "parallelism.dedup 4", "parallelism.udf 2", "checkpoints expire");
        assertThat(OutageCheckpointCheck.warnings(config(), true, 1, 2, 2, Duration.ofMinutes(10))).as("dedup set apart").hasSize(1);
        assertThat(OutageCheckpointCheck.warnings(config(), false, 2, 2, 2, Duration.ofMinutes(10)))
                .singleElement().asString().contains("pipeline.operator-chaining.enabled: false");
    }

    @Test
    void callTimeoutsThatOutlastTheCheckpointTimeoutAreNamed() {
        assertThat(OutageCheckpointCheck.warnings(config("task_timeout=30s"), true, 1, 1, 1, Duration.ofSeconds(60)))
                .singleElement().asString().contains("2 x task_timeout = 60000 ms", "(60000 ms)", "task_timeout");
        assertThat(OutageCheckpointCheck.warnings(config("task_timeout=29s"), true, 1, 1, 1, Duration.ofSeconds(60))).isEmpty();
    }
}
