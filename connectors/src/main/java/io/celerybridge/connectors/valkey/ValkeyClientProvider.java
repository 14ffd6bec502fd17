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
        return forUri(uri, null);
    }

    /** As {@link #forUri(String)}, with a password that replaces any in the URI (null: keep the URI's). */
    static ValkeyClientProvider forUri(String uri, String password) {
        // Parse now so a malformed URI fails at job build time, not on the task managers.
        try {
            RedisURI.create(uri);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a valid Valkey URI (expected redis://[user[:password]@]host[:port][/db] "
                    + "or rediss://...): " + e.getMessage());
        }
        return new UriProvider(uri, password);
    }

    /** Holds the URI, which can carry a password: never printed. */
    final class UriProvider implements ValkeyClientProvider {
        private static final long serialVersionUID = 1L;
        private final String uri;
        private final String password;

        private UriProvider(String uri, String password) {
            this.uri = uri;
            this.password = password;
        }

        @Override
        public RedisClient createClient() {
            RedisURI parsed = RedisURI.create(uri);
            if (password != null) {
                RedisURI.Builder b = RedisURI.builder(parsed);
                parsed = parsed.getUsername() != null
                        ? b.withAuthentication(parsed.getUsername(), password).build()
                        : b.withPassword(password.toCharArray()).build();
            }
            return RedisClient.create(parsed);
        }

        @Override
        public String toString() {
            RedisURI parsed = RedisURI.create(uri);
            return "ValkeyClientProvider{" + parsed.getHost() + ":" + parsed.getPort() + "/" + parsed.getDatabase() + "}";
        }
    }
}
