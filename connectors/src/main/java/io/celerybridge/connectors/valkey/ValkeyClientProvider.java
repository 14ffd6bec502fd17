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

    /**
     * A provider for a {@code redis://} or {@code rediss://} URI (credentials may be embedded), or
     * a Sentinel one, {@code redis-sentinel://host1:26379,host2:26379/0#primary-name} (or {@code
     * rediss-sentinel://}): lettuce asks the Sentinels for the primary on every (re)connect, so a
     * connection lost in a failover comes back to the promoted replica.
     */
    static ValkeyClientProvider forUri(String uri) {
        return forUri(uri, null);
    }

    /** As {@link #forUri(String)}, with a password that replaces any in the URI (null: keep the URI's). */
    static ValkeyClientProvider forUri(String uri, String password) {
        return forUri(uri, password, null);
    }

    /**
     * As above, trusting the CA certificates in {@code tlsCaFile} (PEM) for {@code rediss://}
     * (null: the JVM's trust store).
     */
    static ValkeyClientProvider forUri(String uri, String password, String tlsCaFile) {
        // Parse now so a malformed URI fails at job build time, not on the task managers.
        RedisURI parsed;
        try {
            parsed = RedisURI.create(uri);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a valid Valkey URI (expected redis://[user[:password]@]host[:port][/db], "
                    + "rediss://..., or redis-sentinel://[password@]host[:port][,host2[:port2]...][/db]#primary-name): " + e.getMessage());
        }
        if (!parsed.getSentinels().isEmpty() && (parsed.getSentinelMasterId() == null || parsed.getSentinelMasterId().isEmpty())) {
            throw new IllegalArgumentException("a Sentinel Valkey URI must name the primary the Sentinels monitor: "
                    + "redis-sentinel://host:26379[,host2:26379]/0#primary-name");
        }
        if (tlsCaFile != null && !new java.io.File(tlsCaFile).canRead()) {
            throw new IllegalArgumentException("cannot read the Valkey TLS CA file " + tlsCaFile);
        }
        return new UriProvider(uri, password, tlsCaFile);
    }

    /** Holds the URI, which can carry a password: never printed. */
    final class UriProvider implements ValkeyClientProvider {
        private static final long serialVersionUID = 1L;
        private final String uri;
        private final String password;
        private final String tlsCaFile;

        private UriProvider(String uri, String password, String tlsCaFile) {
            this.uri = uri;
            this.password = password;
            this.tlsCaFile = tlsCaFile;
        }

        @Override
        public RedisClient createClient() {
            RedisURI parsed = RedisURI.create(uri);
            if (password != null) {
                // With the password given apart, "redis://user@host" names the ACL user (lettuce alone
                // would read a lone user-info as a password).
                String userInfo = java.net.URI.create(uri).getRawUserInfo();
                String user = parsed.getUsername() != null ? parsed.getUsername()
                        : userInfo != null && !userInfo.contains(":") ? java.net.URLDecoder.decode(userInfo, java.nio.charset.StandardCharsets.UTF_8) : null;
                RedisURI.Builder b = RedisURI.builder(parsed);
                parsed = user != null
                        ? b.withAuthentication(user, password).build()
                        : b.withPassword(password.toCharArray()).build();
            }
            RedisClient client = RedisClient.create(parsed);
            if (tlsCaFile != null) {
                client.setOptions(io.lettuce.core.ClientOptions.builder()
                        .sslOptions(io.lettuce.core.SslOptions.builder().jdkSslProvider()
                                .trustManager(new java.io.File(tlsCaFile)).build())
                        .build());
            }
            return client;
        }

        @Override
        public String toString() {
            RedisURI parsed = RedisURI.create(uri);
            if (!parsed.getSentinels().isEmpty()) {
                StringBuilder sentinels = new StringBuilder();
                for (RedisURI sentinel : parsed.getSentinels()) {
                    sentinels.append(sentinels.length() == 0 ? "" : ",").append(sentinel.getHost()).append(':').append(sentinel.getPort());
                }
                return "ValkeyClientProvider{primary " + parsed.getSentinelMasterId() + " via Sentinels " + sentinels + "/"
                        + parsed.getDatabase() + "}";
            }
            return "ValkeyClientProvider{" + parsed.getHost() + ":" + parsed.getPort() + "/" + parsed.getDatabase() + "}";
        }
    }
}
