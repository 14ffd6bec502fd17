package io.celerybridge.connectors.celery;

import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.connectors.valkey.ValkeyClientProvider;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The sink against a real Valkey: every task lands once, on its queue's priority bucket. */
class CelerySinkITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void enqueuesEveryTaskOnItsPriorityBucket() throws Exception {
        String queue = "it-sink-" + UUID.randomUUID();
        int n = 2_000;
        List<CeleryTask> tasks = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < n; i++) {
            String id = CeleryTaskIds.forKey(queue + "-" + i);
            ids.add(id);
            tasks.add(CeleryTask.builder().id(id).name("celery_bridge.add").argsJson("[" + i + ", 1]")
                    .queue(queue).priority(i % 10).build());
        }

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.fromData(tasks)
                .sinkTo(CelerySink.builder()
                        .setClientProvider(ValkeyClientProvider.forUri(TestServers.valkeyUri()))
                        .setMaxInFlight(100)
                        .build());
        env.execute("celery-sink-it");

        RedisClient client = RedisClient.create(TestServers.valkeyUri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            RedisCommands<String, String> redis = c.sync();
            Set<String> seen = new HashSet<>();
            long total = 0;
            for (int bucket : new int[] {0, 3, 6, 9}) {
                String key = bucket == 0 ? queue : queue + "\u0006\u0016" + bucket;
                List<String> envelopes = redis.lrange(key, 0, -1);
                total += envelopes.size();
                for (String raw : envelopes) {
                    JsonNode env0 = JSON.readTree(raw);
                    int priority = env0.get("properties").get("priority").asInt();
                    assertThat(CeleryEnvelopeCodec.priorityBucket(priority)).isEqualTo(bucket);
                    assertThat(env0.get("properties").get("delivery_info").get("routing_key").asText()).isEqualTo(queue);
                    JsonNode body = JSON.readTree(Base64.getDecoder().decode(env0.get("body").asText()));
                    assertThat(body.get(0).get(1).asInt()).isEqualTo(1);
                    seen.add(env0.get("headers").get("id").asText());
                }
                redis.del(key);
            }
            assertThat(total).as("envelopes enqueued").isEqualTo(n);
            assertThat(seen).isEqualTo(ids);
        } finally {
            client.shutdown();
        }
    }
}
