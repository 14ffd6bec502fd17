package io.celerybridge.connectors.valkey;

import org.apache.flink.annotation.PublicEvolving;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;

import java.io.Serializable;

/**
 * Creates the lettuce client an operator uses. Shipped to the task managers, so it holds only
 * configuration; tests can substitute their own.
 */
@PublicEvolving
@FunctionalInterface
public interface ValkeyClientProvider extends Serializable {

    RedisClient createClient();

    /** A provider for a {@code redis://} or {@code rediss://} URI (credentials may be embedded). */
    static ValkeyClientProvider forUri(String uri) {
        // Parse now so a malformed URI fails at job build time, not on the task managers.
        RedisURI.create(uri);
        return new UriProvider(uri);
    }

    /** Holds the URI, which can carry a password: never printed. */
    final class UriProvider implements ValkeyClientProvider {
        private static final long serialVersionUID = 1L;
        private final String uri;

        private UriProvider(String uri) {
            this.uri = uri;
        }

        @Override
        public RedisClient createClient() {
            return RedisClient.create(RedisURI.create(uri));
        }

        @Override
        public String toString() {
            RedisURI parsed = RedisURI.create(uri);
            return "ValkeyClientProvider{" + parsed.getHost() + ":" + parsed.getPort() + "/" + parsed.getDatabase() + "}";
        }
    }
}
