package io.celerybridge.job;

import io.celerybridge.connectors.testutils.TestServers;
import io.celerybridge.job.config.BridgeConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Job configurations pointing at the test servers, with per-test overrides. */
final class TestConfigs {

    private TestConfigs() {}

    /** Where the test servers are, as --set arguments. */
    static List<String> testServerSettings() {
        return List.of(
                "pulsar.service_url=" + TestServers.pulsarServiceUrl(),
                "pulsar.admin_url=" + TestServers.pulsarAdminUrl(),
                "valkey.uri=" + TestServers.valkeyUri());
    }

    static BridgeConfig forTestServers(String... sets) {
        List<String> all = new ArrayList<>(testServerSettings());
        all.addAll(List.of(
                "checkpointing.interval=500ms",
                "restart.strategy=fixed-delay",
                "restart.attempts=3"));
        all.addAll(Arrays.asList(sets));
        return BridgeConfig.load(null, all, Map.of());
    }
}
