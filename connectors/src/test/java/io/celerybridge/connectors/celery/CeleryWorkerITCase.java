package io.celerybridge.connectors.celery;

import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.connectors.valkey.ValkeyClientProvider;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * What the codec and sink write, as a stock Celery 5.2.6 worker (examples/celery-worker, started
 * by dev/stack.sh on queues {@code celery} and {@code celery-bridge-it}) sees and runs it.
 */
class CeleryWorkerITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1).build());

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OTHER_QUEUE = "celery-bridge-it";
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    private static CeleryBackendReader backend;
    private final CeleryEnvelopeCodec codec = CeleryEnvelopeCodec.builder().build();
    private final String run = UUID.randomUUID().toString();

    @BeforeAll
    static void connect() {
        backend = new CeleryBackendReader(TestServers.valkeyUri());
    }

    @AfterAll
    static void disconnect() {
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void workerRunsArgsKwargsNonAsciiHeadersAndOtherQueues() throws Exception {
        CeleryTask plain = task("plain").name("celery_bridge.add").argsJson("[2, 3]").build();
        CeleryTask kwargs = task("kwargs").name("celery_bridge.add").kwargsJson("{\"x\": 1, \"y\": 2}").build();
        CeleryTask inspect = task("inspect").name("celery_bridge.inspect_request")
                .argsJson("[\"Zoë 東京 😀 \\u202eRTL\", {\"n\": null, \"ok\": true, \"big\": 12345678901234567890}]")
                .kwargsJson("{\"café\": \"ü\"}")
                .header("x-tenant", "acme").queue(OTHER_QUEUE).priority(6).build();
        enqueue(List.of(plain, kwargs, inspect));

        Map<String, JsonNode> results = awaitResults(plain, kwargs, inspect);
        assertThat(results.get(plain.id()).get("result").asInt()).isEqualTo(5);
        assertThat(results.get(kwargs.id()).get("result").asInt()).isEqualTo(3);
        JsonNode seen = results.get(inspect.id()).get("result");
        assertThat(seen.get("args")).isEqualTo(JSON.readTree(inspect.argsJson()));
        assertThat(seen.get("kwargs")).isEqualTo(JSON.readTree(inspect.kwargsJson()));
        assertThat(seen.get("headers").get("x-tenant").asText()).isEqualTo("acme");
        assertThat(seen.get("routing_key").asText()).isEqualTo(OTHER_QUEUE);
        assertThat(seen.get("priority").asInt()).isEqualTo(6);
        for (CeleryTask t : List.of(plain, kwargs, inspect)) {
            assertThat(backend.executions(t.id())).as("executions of %s", t.id()).isEqualTo(1);
        }
    }

    @Test
    void etaDelaysExecutionAndExpiredTasksAreRevoked() throws Exception {
        Instant eta = Instant.now().plusSeconds(3).truncatedTo(ChronoUnit.MILLIS);
        CeleryTask delayed = task("eta").name("celery_bridge.inspect_request").eta(eta).build();
        CeleryTask expired = task("expired").name("celery_bridge.add").argsJson("[1, 1]")
                .expires(Instant.now().minusSeconds(5)).build();
        enqueue(List.of(delayed, expired));

        Map<String, JsonNode> results = awaitResults(delayed, expired);
        JsonNode d = results.get(delayed.id());
        assertThat(d.get("status").asText()).isEqualTo("SUCCESS");
        assertThat(OffsetDateTime.parse(d.get("result").get("eta").asText()).toInstant()).isEqualTo(eta);
        assertThat(OffsetDateTime.parse(d.get("date_done").asText() + (d.get("date_done").asText().endsWith("Z") ? "" : "Z"))
                .toInstant()).as("ran no earlier than its eta").isAfterOrEqualTo(eta);
        assertThat(results.get(expired.id()).get("status").asText()).isEqualTo("REVOKED");
        assertThat(backend.executions(expired.id())).isZero();
    }

    @Test
    void lowerPriorityNumberRunsFirstOnThisTransport() throws Exception {
        // Both land in ONE script call, so the worker's next BRPOP sees both lists filled.
        CeleryTask p9 = task("p9").name("celery_bridge.record").argsJson("[\"" + run + "\", \"p9\"]").priority(9).build();
        CeleryTask p0 = task("p0").name("celery_bridge.record").argsJson("[\"" + run + "\", \"p0\"]").priority(0).build();
        enqueue(List.of(p9, p0));
        awaitResults(p9, p0);
        assertThat(backend.redis().lrange("celery-bridge:record:" + run, 0, -1)).containsExactly("p0", "p9");
    }

    @Test
    void sameTasksEnqueuedTwiceRunOnce() throws Exception {
        CeleryTask a = task("twice-a").name("celery_bridge.add").argsJson("[20, 22]").build();
        CeleryTask b = task("twice-b").name("celery_bridge.add").argsJson("[1, 2]").build();
        enqueue(List.of(a, b, a));
        enqueue(List.of(b, a));
        Map<String, JsonNode> results = awaitResults(a, b);
        assertThat(results.get(a.id()).get("result").asInt()).isEqualTo(42);
        Thread.sleep(1_000); // a second copy, had there been one, would have run by now
        assertThat(backend.executions(a.id())).isEqualTo(1);
        assertThat(backend.executions(b.id())).isEqualTo(1);
    }

    @Test
    void overlappingBatchTasksRunEveryMemberOnce() throws Exception {
        CeleryTask abc = batchOf("a", "b", "c");
        CeleryTask cd = batchOf("c", "d");
        enqueue(List.of(abc, cd)); // c is in both: [c, d] is re-encoded as [d] by the sink
        CeleryTask d = cd.withoutMembers(java.util.Set.of(run + "-c"));
        Map<String, JsonNode> results = awaitResults(abc, d);
        assertThat(results.get(abc.id()).get("result").get("count").asInt()).isEqualTo(3);
        assertThat(results.get(d.id()).get("result").get("count").asInt()).isEqualTo(1);
        Thread.sleep(1_000);
        assertThat(backend.result(cd.id())).as("the overlapping batch never ran as such").isNull();
        assertThat(backend.executions(abc.id())).isEqualTo(1);
        assertThat(backend.executions(d.id())).isEqualTo(1);
    }

    private CeleryTask batchOf(String... members) {
        List<String> keys = new java.util.ArrayList<>();
        List<String> jsons = new java.util.ArrayList<>();
        for (String m : members) {
            keys.add(run + "-" + m);
            jsons.add("{\"id\": \"" + run + "-" + m + "\"}");
        }
        return CeleryTask.builder().name("celery_bridge.process_batch").batchOf("events", keys, jsons).build();
    }

    private CeleryTask.Builder task(String name) {
        String eventId = run + "-" + name;
        return CeleryTask.builder().id(CeleryTaskIds.forKey(eventId)).idempotencyKey(eventId);
    }

    private void enqueue(List<CeleryTask> tasks) throws Exception {
        List<CeleryMessage> messages = new java.util.ArrayList<>();
        for (CeleryTask t : tasks) {
            messages.add(codec.toMessage(t));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.fromData(messages).sinkTo(CelerySink.builder()
                .setClientProvider(ValkeyClientProvider.forUri(TestServers.valkeyUri()))
                .setDedupTtl(Duration.ofHours(1))
                .setCodec(codec)
                .build());
        env.execute("celery-worker-it");
    }

    private Map<String, JsonNode> awaitResults(CeleryTask... tasks) throws InterruptedException {
        List<String> ids = java.util.Arrays.stream(tasks).map(CeleryTask::id).toList();
        Map<String, JsonNode> results = backend.awaitResults(ids, DEADLINE);
        if (results.size() < ids.size()) {
            fail("only " + results.size() + " of " + ids.size() + " tasks have a result after " + DEADLINE
                    + ". Is a Celery worker consuming queues celery and " + OTHER_QUEUE + " on "
                    + TestServers.valkeyUri() + "? Start one with `dev/celery-worker.sh start`.");
        }
        return results;
    }
}
