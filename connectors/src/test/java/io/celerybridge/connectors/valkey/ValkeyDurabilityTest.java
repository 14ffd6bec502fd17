package io.celerybridge.connectors.valkey;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ValkeyDurabilityTest {

    private static ValkeyDurability settings(String policy, boolean aof, String fsync, String save, String role, int replicas) {
        return new ValkeyDurability(policy, 0, aof, fsync, save, role, replicas);
    }

    @Test
    void eachPersistenceSettingSaysWhatAnAcknowledgedEnqueueSurvives() {
        assertThat(settings("noeviction", true, "always", "", "master", 0).describe())
                .startsWith("append-only file, fsync always: an acknowledged enqueue survives a crash or kill of Valkey");
        assertThat(settings("noeviction", true, "everysec", "", "master", 0).describe()).contains("about the last second");
        assertThat(settings("noeviction", true, "no", "", "master", 0).describe()).contains("fsync left to the OS");
        assertThat(settings("noeviction", false, "everysec", "3600 1 300 100 60 10000", "master", 0).describe())
                .contains("RDB snapshots only (save 3600 1 300 100 60 10000)");
        assertThat(settings("noeviction", false, "everysec", "", "master", 0).describe()).startsWith("no persistence");
    }

    @Test
    void replicasAreAsynchronousAndAReplicaIsNotAPrimary() {
        assertThat(settings("noeviction", true, "always", "", "master", 2).describe())
                .contains("2 replica(s) connected, replicated asynchronously");
        assertThat(settings("noeviction", true, "always", "", "slave", 0).describe()).contains("this server is a slave, not a primary");
    }

    @Test
    void onlyNoevictionKeepsEveryKey() {
        assertThat(settings("noeviction", false, "everysec", "", "master", 0).evictionRisk()).isEmpty();
        assertThat(settings("volatile-ttl", false, "everysec", "", "master", 0).evictionRisk()).get().asString()
                .contains("dedup marks").doesNotContain("queue lists");
        assertThat(settings("allkeys-random", false, "everysec", "", "master", 0).evictionRisk()).get().asString()
                .contains("queued tasks are lost");
    }
}
