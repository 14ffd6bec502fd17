package io.celerybridge.job.internal;

import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.job.config.BridgeOptions;
import io.celerybridge.job.config.ConfigException;
import io.celerybridge.udfs.BatchUdf;
import io.celerybridge.udfs.builtin.RoutingUdf;
import io.celerybridge.udfs.runtime.BatchUdfSettings;

/** The UDF and the stage settings the configuration asks for; anything wrong stops start-up, naming the key. */
public final class UdfFactory {

    private UdfFactory() {}

    public static BatchUdf udf(BridgeConfig config) {
        String className = config.get(BridgeOptions.UDF_CLASS);
        if (className.isEmpty()) {
            try {
                return new RoutingUdf(config.get(BridgeOptions.UDF_SCHEMA), config.get(BridgeOptions.UDF_ROUTING),
                        config.get(BridgeOptions.CELERY_TASK), config.get(BridgeOptions.CHANNEL), config.get(BridgeOptions.UDF_BATCH_TASK),
                        CeleryMessageEncoder.payloadCharsWithin(config.get(BridgeOptions.CELERY_MAX_TASK_BYTES)));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("config key " + e.getMessage());
            }
        }
        String expected = "a class implementing " + BatchUdf.class.getName() + " with a public no-argument constructor";
        try {
            Class<?> c = Class.forName(className, true, Thread.currentThread().getContextClassLoader());
            if (!BatchUdf.class.isAssignableFrom(c)) {
                throw new ConfigException("config key 'udf.class': value '" + className + "' is invalid; expected " + expected
                        + " (it does not implement BatchUdf)");
            }
            return (BatchUdf) c.getConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new ConfigException("config key 'udf.class': value '" + className + "' is invalid; expected " + expected
                    + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
        }
    }

    public static BatchUdfSettings settings(BridgeConfig config) {
        return BatchUdfSettings.builder()
                .batchSize(config.get(BridgeOptions.BATCH_SIZE))
                .maxLinger(config.get(BridgeOptions.UDF_MAX_LINGER))
                .maxRetries(config.get(BridgeOptions.MAX_RETRIES))
                .backoff(config.get(BridgeOptions.BACKOFF))
                .maxBackoff(config.get(BridgeOptions.UDF_MAX_BACKOFF))
                .taskTimeout(config.get(BridgeOptions.TASK_TIMEOUT))
                .rateLimit(config.get(BridgeOptions.RATE_LIMIT), config.get(BridgeOptions.RATE_WINDOW))
                .circuitBreaker(config.get(BridgeOptions.CIRCUIT_FAILURE_THRESHOLD), config.get(BridgeOptions.CIRCUIT_OPEN_FOR))
                .build();
    }
}
