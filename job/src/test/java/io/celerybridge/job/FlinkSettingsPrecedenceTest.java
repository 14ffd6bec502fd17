package io.celerybridge.job;

import io.celerybridge.job.config.BridgeConfig;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.IntUnaryOperator;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Flink's configuration (what a cluster file, -D, flink run -p or REST put into the environment)
 * decides what Flink owns; the job's config overrides it only where set explicitly. Builds the
 * production pipeline (no server is contacted before execution) on an environment made from a
 * "cluster" configuration and reads the resulting stream graph.
 */
class FlinkSettingsPrecedenceTest {

    private static Configuration cluster() {
        Configuration c = new Configuration();
        c.set(CoreOptions.DEFAULT_PARALLELISM, 3);
        c.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(7));
        c.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, Duration.ofMinutes(3));
        c.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE, CheckpointingMode.AT_LEAST_ONCE);
        c.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        c.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 7);
        return c;
    }

    private static StreamGraph build(Configuration flink, String... sets) {
        BridgeConfig config = BridgeConfig.load(null, List.of(sets), Map.of());
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(flink);
        new CeleryBridgeJob(CeleryBridgeJob.pulsarSource(config), IntUnaryOperator.identity(), CeleryBridgeJob.celerySink(config),
                CeleryBridgeJob.dlqSink(config), config).build(env);
        return env.getStreamGraph(false);
    }

    private static Map<String, Integer> parallelism(StreamGraph graph) {
        return graph.getStreamNodes().stream().collect(Collectors.toMap(StreamNode::getOperatorName, StreamNode::getParallelism, (a, b) -> a));
    }

    @Test
    void flinksConfigurationDecidesWhatTheJobConfigLeavesUnset() {
        StreamGraph graph = build(cluster());

        assertThat(parallelism(graph)).as("every operator at Flink's parallelism.default").allSatisfy((name, p) -> assertThat(p).isEqualTo(3));
        assertThat(graph.getCheckpointConfig().getCheckpointInterval()).isEqualTo(7_000);
        assertThat(graph.getCheckpointConfig().getCheckpointTimeout()).isEqualTo(180_000);
        assertThat(graph.getCheckpointConfig().getCheckpointingConsistencyMode()).isEqualTo(CheckpointingMode.AT_LEAST_ONCE);
        assertThat(graph.getJobConfiguration().get(RestartStrategyOptions.RESTART_STRATEGY)).isEqualTo("fixed-delay");
        assertThat(graph.getJobConfiguration().get(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS)).isEqualTo(7);
        assertThat(graph.getExecutionConfig().getMaxParallelism()).as("fixed, so savepoints rescale").isEqualTo(128);
    }

    @Test
    void whatTheJobConfigSetsExplicitlyOverridesFlink() {
        StreamGraph graph = build(cluster(), "checkpointing.interval=2s", "checkpointing.timeout=1m",
                "checkpointing.mode=exactly_once", "restart.strategy=exponential-delay", "restart.delay=3s",
                "restart.max_delay=30s", "parallelism.udf=1", "parallelism.max=256");

        assertThat(parallelism(graph)).containsEntry("process-batches", 1).containsEntry("decode", 3);
        assertThat(graph.getCheckpointConfig().getCheckpointInterval()).isEqualTo(2_000);
        assertThat(graph.getCheckpointConfig().getCheckpointTimeout()).isEqualTo(60_000);
        assertThat(graph.getCheckpointConfig().getCheckpointingConsistencyMode()).isEqualTo(CheckpointingMode.EXACTLY_ONCE);
        Configuration job = graph.getJobConfiguration();
        assertThat(job.get(RestartStrategyOptions.RESTART_STRATEGY)).isEqualTo("exponential-delay");
        assertThat(job.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF)).isEqualTo(Duration.ofSeconds(3));
        assertThat(job.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF)).isEqualTo(Duration.ofSeconds(30));
        assertThat(graph.getExecutionConfig().getMaxParallelism()).isEqualTo(256);
    }

    @Test
    void withoutAnyCheckpointIntervalTheJobStillCheckpoints() {
        StreamGraph graph = build(new Configuration());
        assertThat(graph.getCheckpointConfig().getCheckpointInterval()).isEqualTo(CeleryBridgeJob.DEFAULT_CHECKPOINT_INTERVAL.toMillis());
    }

    @Test
    void flinksMaxParallelismIsKept() {
        Configuration flink = cluster();
        flink.set(PipelineOptions.MAX_PARALLELISM, 64);
        assertThat(build(flink).getExecutionConfig().getMaxParallelism()).isEqualTo(64);
    }
}
