package io.celerybridge.connectors.testutils;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.pulsar.PulsarContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Endpoints of the real servers tests talk to.
 *
 * <p>In order: the environment variables that {@code dev/stack.sh up} writes to {@code .dev/env};
 * else, when a Docker engine answers, containers started once per JVM; else the test fails with
 * a message saying how to start the servers. Never a silent skip.
 */
public final class TestServers {

    public static final String VALKEY_URI_ENV = "CELERY_BRIDGE_VALKEY_URI";
    public static final String PULSAR_SERVICE_URL_ENV = "CELERY_BRIDGE_PULSAR_SERVICE_URL";
    public static final String PULSAR_ADMIN_URL_ENV = "CELERY_BRIDGE_PULSAR_ADMIN_URL";
    public static final String FLINK_REST_URL_ENV = "CELERY_BRIDGE_FLINK_REST_URL";

    static final String HOW_TO_START = "Start the local servers with `dev/stack.sh up` and `source .dev/env` "
            + "(or run the tests with `dev/test.sh`, which does both), or run a Docker engine for Testcontainers.";

    private static GenericContainer<?> valkeyContainer;
    private static PulsarContainer pulsarContainer;

    private TestServers() {}

    /** {@code redis://host:port/0} of a Valkey server (the Celery broker and result backend). */
    public static synchronized String valkeyUri() {
        String fromEnv = System.getenv(VALKEY_URI_ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return fromEnv;
        }
        requireDocker("Valkey", VALKEY_URI_ENV);
        if (valkeyContainer == null) {
            valkeyContainer = new GenericContainer<>(DockerImageName.parse("valkey/valkey:8.0")).withExposedPorts(6379);
            valkeyContainer.start();
        }
        return "redis://" + valkeyContainer.getHost() + ":" + valkeyContainer.getMappedPort(6379) + "/0";
    }

    /** {@code pulsar://host:port} of a Pulsar broker. */
    public static synchronized String pulsarServiceUrl() {
        String fromEnv = System.getenv(PULSAR_SERVICE_URL_ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return fromEnv;
        }
        return pulsarContainer().getPulsarBrokerUrl();
    }

    /** {@code http://host:port} of the same broker's admin API. */
    public static synchronized String pulsarAdminUrl() {
        String fromEnv = System.getenv(PULSAR_ADMIN_URL_ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return fromEnv;
        }
        return pulsarContainer().getHttpServiceUrl();
    }

    /**
     * REST URL of a real multi-process Flink session cluster ({@code dev/flink-cluster.sh}). There
     * is no container fallback: the deployment test is about this project's own cluster scripts.
     */
    public static String flinkRestUrl() {
        String fromEnv = System.getenv(FLINK_REST_URL_ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return fromEnv;
        }
        throw new IllegalStateException("This test needs a real Flink session cluster: " + FLINK_REST_URL_ENV
                + " is not set. Start one with `dev/flink-cluster.sh start`, then `dev/stack.sh up` writes it to .dev/env.");
    }

    private static PulsarContainer pulsarContainer() {
        requireDocker("Pulsar", PULSAR_SERVICE_URL_ENV + " and " + PULSAR_ADMIN_URL_ENV);
        if (pulsarContainer == null) {
            pulsarContainer = new PulsarContainer(DockerImageName.parse("apachepulsar/pulsar:4.0.7"));
            pulsarContainer.start();
        }
        return pulsarContainer;
    }

    private static void requireDocker(String server, String envVars) {
        boolean docker;
        try {
            docker = DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable t) {
            docker = false;
        }
        if (!docker) {
            throw new IllegalStateException("This test needs a real " + server + " server: " + envVars
                    + " is not set and no Docker engine answers. " + HOW_TO_START);
        }
    }
}
