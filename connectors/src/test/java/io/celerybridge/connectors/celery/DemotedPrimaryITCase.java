package io.celerybridge.connectors.celery;

import io.celerybridge.connectors.testutils.LocalValkey;
import io.celerybridge.connectors.valkey.MarkIfAbsent;
import io.celerybridge.connectors.valkey.StatelessExponentialBackoff;
import io.celerybridge.connectors.valkey.ValkeyClientProvider;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.ProtocolKeyword;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A primary demoted in place, as a managed service or an operator switches roles: the old primary
 * stays up as a replica of the new one and keeps its client connections, so every write on them
 * is answered READONLY and lettuce never reconnects by itself. The sink and the dead-letter marks
 * must drop such a connection and resolve the primary again (here through a Sentinel, re-pointed
 * at the new primary); retrying on the old connection is refused forever. The switch is Valkey's
 * coordinated {@code FAILOVER}, so nothing written before it is lost and the counts are exact.
 */
class DemotedPrimaryITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1).build());

    private static final String NAME = "bridge-primary";
    private static final int N = 6_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void theSinkFollowsThePrimaryToItsNewNode() throws Exception {
        try (Servers servers = new Servers(tmp)) {
            String queue = "demoted-" + UUID.randomUUID();
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.setParallelism(1);
            env.fromData(CelerySinkITCase.messages(queue, 0, N, false)).map(new Paced<>())
                    .sinkTo(CelerySink.builder().setClientProvider(ValkeyClientProvider.forUri(servers.sentinelUri()))
                            .setDedupTtl(Duration.ofHours(1)).setMessagesPerScript(50).setMaxBatchSize(200)
                            .setMaxBufferedRequests(2_000).setRetryBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                            .build());
            JobClient job = servers.run(env, "demoted-primary-sink");
            LocalValkey.await(() -> servers.a.call(c -> c.llen(queue)) >= N / 4, "a quarter of the tasks enqueued");
            servers.swapRoles();

            job.getJobExecutionResult().get(120, TimeUnit.SECONDS);
            Map<String, Integer> ids = servers.b.call(c -> {
                Map<String, Integer> out = new HashMap<>();
                for (String envelope : c.lrange(queue, 0, -1)) {
                    try {
                        out.merge(JSON.readTree(envelope).path("headers").path("id").asText(), 1, Integer::sum);
                    } catch (Exception e) {
                        throw new AssertionError("not a Celery envelope: " + envelope, e);
                    }
                }
                return out;
            });
            assertThat(ids).as("every task on the new primary").hasSize(N);
            assertThat(ids.values()).as("each task once").allMatch(count -> count == 1);
        }
    }

    /**
     * Without a fresh connection the marks time out, and the operator lets the records pass
     * unmarked (fail-open): the missing keys on the new primary are what this would show.
     */
    @Test
    void deadLetterMarksFollowThePrimaryToItsNewNode() throws Exception {
        try (Servers servers = new Servers(tmp)) {
            String prefix = "mark-" + UUID.randomUUID() + ":";
            List<String> ids = IntStream.range(0, N).mapToObj(i -> prefix + i).collect(Collectors.toList());
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.setParallelism(1);
            AsyncDataStream.unorderedWaitWithRetry(env.fromData(ids).map(new Paced<>()),
                            new MarkIfAbsent<>(ValkeyClientProvider.forUri(servers.sentinelUri()), new Marker(), Duration.ofHours(1),
                                    (id, previous) -> true),
                            20, TimeUnit.SECONDS, 100,
                            new StatelessExponentialBackoff<>(Integer.MAX_VALUE, 50, 1_000, MarkIfAbsent::isTransient))
                    .sinkTo(new DiscardingSink<>());
            JobClient job = servers.run(env, "demoted-primary-marks");
            LocalValkey.await(() -> servers.a.call(c -> c.keys(prefix + "*").size()) >= N / 4, "a quarter of the marks set");
            servers.swapRoles();

            job.getJobExecutionResult().get(120, TimeUnit.SECONDS);
            long marked = servers.b.call(c -> (long) c.keys(prefix + "*").size());
            assertThat(marked).as("marks on the new primary").isEqualTo(N);
        }
    }

    /** Node a primary, b its replica, one Sentinel on a; {@link #swapRoles} makes b the primary without closing a's clients. */
    private static final class Servers implements AutoCloseable {
        final List<LocalValkey> all = new ArrayList<>();
        private JobClient job;
        final LocalValkey a;
        final LocalValkey b;
        final LocalValkey sentinel;

        Servers(Path tmp) throws Exception {
            try {
                a = add(LocalValkey.start(tmp.resolve("a")));
                b = add(LocalValkey.start(tmp.resolve("b"), "--replicaof", "127.0.0.1", Integer.toString(a.port())));
                // Connected is not enough: with diskless sync b waits 5 s for its first copy.
                LocalValkey.await(() -> a.info("replication").contains("state=online"), "b in sync with a");
                sentinel = add(LocalValkey.startSentinel(tmp.resolve("sentinel"), NAME, a.port()));
                LocalValkey.await(() -> sentinel.info("sentinel").contains("status=ok,address=127.0.0.1:" + a.port()),
                        "the Sentinel monitors a");
            } catch (Exception | AssertionError e) {
                close();
                throw e;
            }
        }

        private LocalValkey add(LocalValkey v) {
            all.add(v);
            return v;
        }

        /** Runs the job; {@link #close} cancels it if it is still running, so the next test gets the slot. */
        JobClient run(StreamExecutionEnvironment env, String name) throws Exception {
            job = env.executeAsync(name);
            return job;
        }

        String sentinelUri() {
            return "redis-sentinel://127.0.0.1:" + sentinel.port() + "/0#" + NAME;
        }

        /**
         * Valkey's own coordinated FAILOVER on a: writes paused until b has everything, b made the
         * primary, a its replica; a keeps its client connections. Then the Sentinel is pointed at b.
         */
        void swapRoles() throws InterruptedException {
            command(a, "FAILOVER", "TO", "127.0.0.1", Integer.toString(b.port()));
            LocalValkey.await(() -> b.info("replication").contains("role:master")
                    && a.info("replication").contains("master_link_status:up"), "b the primary, a its replica in sync");
            command(sentinel, "SENTINEL", "REMOVE", NAME);
            command(sentinel, "SENTINEL", "MONITOR", NAME, "127.0.0.1", Integer.toString(b.port()), "1");
        }

        /** A command lettuce has no method for, on a fresh connection. */
        private static String command(LocalValkey server, String name, String... args) {
            ProtocolKeyword keyword = new ProtocolKeyword() {
                @Override
                public byte[] getBytes() {
                    return name.getBytes(StandardCharsets.US_ASCII);
                }

                @Override
                public String name() {
                    return name;
                }
            };
            return server.call(c -> c.dispatch(keyword, new StatusOutput<>(StringCodec.UTF8),
                    new CommandArgs<>(StringCodec.UTF8).addValues(args)));
        }

        @Override
        public void close() {
            if (job != null && !job.getJobExecutionResult().isDone()) {
                job.cancel();
            }
            all.forEach(LocalValkey::close);
        }
    }

    private static final class Marker implements MarkIfAbsent.Marker<String> {
        @Override
        public String key(String id) {
            return id;
        }

        @Override
        public String value(String id) {
            return "1";
        }
    }

    /** About 2,000 elements a second, so the stream still flows when the roles change. */
    private static final class Paced<T> implements MapFunction<T, T> {
        private long n;

        @Override
        public T map(T element) throws Exception {
            if (++n % 20 == 0) {
                Thread.sleep(10);
            }
            return element;
        }
    }
}
