package io.celerybridge.job.config;

/** Bad configuration: the message names the key, the value and what was expected. Stops start-up. */
public class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
