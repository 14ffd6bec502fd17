package io.celerybridge.connectors.celery;

import io.celerybridge.connectors.testutils.LocalValkey;
import io.celerybridge.connectors.valkey.ValkeyClientProvider;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The sink's durability wait on real processes (a primary and a replica, as valkey-server on
 * local ports): an enqueue counts as done only once the replicas or the append-only file the user
 * asked for have it. With the replica down the sink holds its messages, retrying, and the job
 * cannot finish; the replica back, everything is enqueued once. WAITAOF on a server without an
 * append-only file fails the job with the reason.
 */
class CelerySinkDurabilityITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1).build());

    private static final int N = 500;

    @TempDir
    Path tmp;

    @Test
    void withTheReplicaDownTheSinkHoldsItsEnqueuesUntilTheReplicaAcknowledges() throws Exception {
        try (LocalValkey primary = LocalValkey.start(tmp.resolve("primary"))) {
            String queue = "durable-" + UUID.randomUUID();
            LocalValkey replica = startReplica(primary, tmp.resolve("replica"));
            try {
                replica.kill();
                LocalValkey.await(() -> primary.info("replication").contains("connected_slaves:0"), "the primary saw its replica go");

                JobClient job = run(primary, queue, sink(primary).setDurability(1, false, Duration.ofMillis(200)));
                // Evidence the sink is waiting, not done: the tasks are on the primary, WAIT keeps coming
                // back short, and the bounded job does not finish.
                LocalValkey.await(() -> depth(primary, queue) == N, "all tasks written to the primary");
                LocalValkey.await(() -> waitCalls(primary, "wait") >= 3, "at least three WAITs answered short");
                assertThat(job.getJobStatus().get().isTerminalState()).as("the job waits for its replica").isFalse();

                replica = startReplica(primary, tmp.resolve("replica"));
                job.getJobExecutionResult().get(120, TimeUnit.SECONDS);
                assertThat(depth(primary, queue)).as("each task once, though its call was retried").isEqualTo(N);
                LocalValkey r = replica;
                LocalValkey.await(() -> depth(r, queue) == N, "the replica has them all");
            } finally {
                replica.close();
            }
        }
    }

    @Test
    void waitaofOnAServerWithAnAppendOnlyFileEnqueuesAndWithoutOneFailsTheJob() throws Exception {
        try (LocalValkey aof = LocalValkey.start(tmp.resolve("aof"), "--appendonly", "yes")) {
            String queue = "aof-" + UUID.randomUUID();
            run(aof, queue, sink(aof).setDurability(0, true, Duration.ofSeconds(1))).getJobExecutionResult().get(120, TimeUnit.SECONDS);
            assertThat(depth(aof, queue)).isEqualTo(N);
            assertThat(waitCalls(aof, "waitaof")).as("WAITAOF ran").isPositive();
        }
        try (LocalValkey noAof = LocalValkey.start(tmp.resolve("no-aof"))) {
            JobClient job = run(noAof, "no-aof-" + UUID.randomUUID(), sink(noAof).setDurability(0, true, Duration.ofSeconds(1)));
            assertThatThrownBy(() -> job.getJobExecutionResult().get(120, TimeUnit.SECONDS))
                    .satisfies(e -> assertThat(ExceptionUtils.stringifyException(e))
                            .contains("Celery sink cannot wait for durable enqueues").contains("appendonly"));
        }
    }

    private static LocalValkey startReplica(LocalValkey primary, Path dir) throws Exception {
        LocalValkey replica = LocalValkey.start(dir, "--replicaof", "127.0.0.1", Integer.toString(primary.port()));
        LocalValkey.await(() -> replica.info("replication").contains("master_link_status:up"), "the replica in sync");
        return replica;
    }

    private static CelerySink.Builder sink(LocalValkey valkey) {
        return CelerySink.builder().setClientProvider(ValkeyClientProvider.forUri(valkey.uri()))
                .setDedupTtl(Duration.ofHours(1)).setMessagesPerScript(50).setMaxBatchSize(100).setMaxBufferedRequests(1_000)
                .setRetryBackoff(Duration.ofMillis(50), Duration.ofMillis(200));
    }

    private static JobClient run(LocalValkey valkey, String queue, CelerySink.Builder sink) throws Exception {
        List<CeleryMessage> messages = CelerySinkITCase.messages(queue, 0, N, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.fromData(messages).sinkTo(sink.build());
        return env.executeAsync("celery-sink-durability");
    }

    private static long depth(LocalValkey valkey, String queue) {
        return valkey.call(c -> c.llen(queue));
    }

    /** How often the server ran a command ({@code INFO commandstats}). */
    private static long waitCalls(LocalValkey valkey, String command) {
        return valkey.info("commandstats").lines().filter(l -> l.startsWith("cmdstat_" + command + ":"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("^[^:]*:calls=(\\d+),.*", "$1"))).sum();
    }

}
