package io.celerybridge.job;

import io.celerybridge.connectors.testutils.LocalValkey;
import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.connectors.valkey.ValkeyDurability;
import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.job.config.ConfigException;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The start-up check of what Valkey keeps after it answered: a server that may evict keys stops
 * the job unless the user accepted it, a user who may not read the settings gets a warning and the
 * job goes on, a stock server is described as it is (RDB snapshots, no append-only file), and a
 * backlog whose dedup marks would not fit in maxmemory is seen before the job starts.
 */
class ValkeyDurabilityCheckITCase {

    @TempDir
    Path tmp;

    @Test
    void aServerThatMayEvictDedupMarksStopsTheJobUnlessTheRiskIsAccepted() throws Exception {
        try (LocalValkey valkey = LocalValkey.start(tmp.resolve("volatile"), "--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru")) {
            String uri = "valkey.uri=redis://127.0.0.1:" + valkey.port() + "/0";
            assertThatThrownBy(() -> ValkeyStartupCheck.check(TestConfigs.forTestServers(uri)))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("maxmemory-policy volatile-lru")
                    .hasMessageContaining("enqueued twice")
                    .hasMessageContaining("valkey.allow_eviction: true");
            assertThatCode(() -> ValkeyStartupCheck.check(TestConfigs.forTestServers(uri, "valkey.allow_eviction=true")))
                    .doesNotThrowAnyException();
        }
    }

    @Test
    void aServerThatMayEvictQueueListsStopsTheJob() throws Exception {
        try (LocalValkey valkey = LocalValkey.start(tmp.resolve("allkeys"), "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")) {
            assertThatThrownBy(() -> ValkeyStartupCheck.check(
                    TestConfigs.forTestServers("valkey.uri=redis://127.0.0.1:" + valkey.port() + "/0")))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("maxmemory-policy allkeys-lru")
                    .hasMessageContaining("queued tasks are lost");
        }
    }

    @Test
    void aUserWhoMayNotReadTheSettingsIsWarnedAndTheJobGoesOn() throws Exception {
        try (LocalValkey valkey = LocalValkey.start(tmp.resolve("acl"), "--maxmemory-policy", "allkeys-lru",
                "--user", "default", "off", "--user", "bridge", "on", ">secret", "~*", "&*", "+@all", "-config")) {
            String uri = "redis://bridge:secret@127.0.0.1:" + valkey.port() + "/0";
            RedisClient client = RedisClient.create(uri);
            try (StatefulRedisConnection<String, String> c = client.connect()) {
                assertThatThrownBy(() -> ValkeyDurability.read(c.sync()))
                        .isInstanceOf(ValkeyDurability.NotReadable.class).hasMessageContaining("NOPERM");
            } finally {
                client.shutdown();
            }
            // Not checked, so not refused: like a managed service that hides CONFIG.
            assertThatCode(() -> ValkeyStartupCheck.check(TestConfigs.forTestServers("valkey.uri=" + uri)))
                    .doesNotThrowAnyException();
        }
    }

    /**
     * What the start-up check says of stock persistence (RDB snapshots, no append-only file) is what
     * a crash does: tasks enqueued since the last snapshot are gone after a SIGKILL and a restart.
     */
    @Test
    void aCrashOfAServerWithStockPersistenceLosesWhatTheCheckSaysItLoses() throws Exception {
        try (LocalValkey valkey = LocalValkey.start(tmp.resolve("stock"), "--save", "3600 1 300 100 60 10000")) {
            RedisClient client = RedisClient.create(valkey.uri());
            try (StatefulRedisConnection<String, String> c = client.connect()) {
                assertThat(ValkeyDurability.read(c.sync()).describe())
                        .contains("RDB snapshots only (save 3600 1 300 100 60 10000)")
                        .contains("a crash or kill of Valkey loses every enqueue and dedup mark since the last snapshot");
                for (int i = 0; i < 50; i++) {
                    c.sync().lpush("celery", "task-" + i);
                    c.sync().set("celery-bridge:dedup:" + i, "1");
                }
                assertThat(c.sync().llen("celery")).isEqualTo(50);
            } finally {
                client.shutdown();
            }
            valkey.killAndStart();
            client = RedisClient.create(valkey.uri());
            try (StatefulRedisConnection<String, String> c = client.connect()) {
                assertThat(c.sync().llen("celery")).as("queued tasks after a crash and a restart").isZero();
                assertThat(c.sync().exists("celery-bridge:dedup:0")).as("their dedup marks").isZero();
            } finally {
                client.shutdown();
            }
        }
    }

    /**
     * A backlog of 10,000 events leaves 10,000 dedup marks, about 1.7 MB: more than a 1 MB
     * maxmemory holds (about 6,000), which the start-up check projects from the broker's stats.
     */
    @Test
    void aBacklogWhoseDedupMarksDoNotFitInMaxmemoryIsProjectedAtStartUp() throws Exception {
        String topic = "persistent://public/default/dedup-marks-" + System.nanoTime();
        String subscription = "celery-bridge-marks";
        try (LocalValkey valkey = LocalValkey.start(tmp.resolve("small"), "--maxmemory", "1mb");
                PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl(TestServers.pulsarAdminUrl()).build();
                PulsarClient pulsar = PulsarClient.builder().serviceUrl(TestServers.pulsarServiceUrl()).build()) {
            admin.topics().createNonPartitionedTopic(topic);
            admin.topics().createSubscription(topic, subscription, MessageId.earliest);
            try (Producer<byte[]> producer = pulsar.newProducer().topic(topic).create()) {
                TestEvents.publish(producer, "marks", 10_000, 0);
            }
            BridgeConfig config = TestConfigs.forTestServers("valkey.uri=" + valkey.uri(), "topic=" + topic,
                    "pulsar.subscription=" + subscription);
            ValkeyDurability durability = ValkeyStartupCheck.check(config);
            assertThat(ValkeyStartupCheck.dedupMarkBudget(durability)).as("marks 1 MB holds").isBetween(6_000L, 6_200L);
            long projected = ValkeyStartupCheck.warnIfDedupMarksOutgrowValkey(config, durability);
            assertThat(projected).as("marks projected from the backlog (the broker's rate is 0 in its first minute or more)")
                    .isGreaterThanOrEqualTo(10_000L);
            assertThat(projected * ValkeyStartupCheck.BYTES_PER_DEDUP_MARK).as("so the start-up check warns")
                    .isGreaterThan(durability.maxmemory());
        }
    }

    @Test
    void aStockServerIsDescribedAsItIs() throws Exception {
        RedisClient client = RedisClient.create(TestServers.valkeyUri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            ValkeyDurability durability = ValkeyDurability.read(c.sync());
            assertThat(durability.evicts()).as("stock maxmemory-policy is noeviction").isFalse();
            assertThat(durability.describe())
                    .contains("RDB snapshots only")
                    .contains("a crash or kill of Valkey loses every enqueue and dedup mark since the last snapshot")
                    .contains("maxmemory-policy noeviction");
        } finally {
            client.shutdown();
        }
    }
}
