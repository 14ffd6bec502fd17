package io.celerybridge.connectors.pulsar;

import org.apache.flink.annotation.PublicEvolving;

import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.client.api.PulsarClientException;

import java.util.List;

/**
 * Reads topic partition counts through the admin API, so the job can size its source before it
 * starts.
 *
 * <p>Why it matters: flink-connector-pulsar 4.1.0 assigns the split of a NON-partitioned topic
 * (partition id -1) to reader {@code (hash(topic) % p - 1) % p}, which is -1 for about one topic
 * name in p when the source parallelism p is above 1: that topic is then never read, silently.
 * A source over non-partitioned topics must therefore run at parallelism 1.
 */
@PublicEvolving
public final class PulsarTopicPartitions {

    private PulsarTopicPartitions() {}

    /** True if any of the topics is not partitioned (or does not exist yet and would be created so). */
    public static boolean anyNonPartitioned(String adminUrl, List<String> topics) {
        return anyNonPartitioned(adminUrl, null, topics);
    }

    /** As above, authenticating with a token (null for none). */
    public static boolean anyNonPartitioned(String adminUrl, String authToken, List<String> topics) {
        org.apache.pulsar.client.admin.PulsarAdminBuilder builder = PulsarAdmin.builder().serviceHttpUrl(adminUrl);
        try {
            if (authToken != null && !authToken.isEmpty()) {
                builder.authentication(PulsarRecordSourceBuilder.TOKEN_AUTH_PLUGIN, PulsarRecordSourceBuilder.tokenAuthParams(authToken));
            }
        } catch (PulsarClientException.UnsupportedAuthenticationException e) {
            throw new IllegalStateException("Pulsar token authentication is not available: " + e.getMessage(), e);
        }
        try (PulsarAdmin admin = builder.build()) {
            for (String topic : topics) {
                try {
                    if (admin.topics().getPartitionedTopicMetadata(topic).partitions == 0) {
                        return true;
                    }
                } catch (PulsarAdminException.NotFoundException e) {
                    return true; // not created yet: auto-creation makes it non-partitioned
                }
            }
            return false;
        } catch (PulsarClientException | PulsarAdminException e) {
            throw new IllegalStateException("cannot read the partitions of " + topics + " from the Pulsar admin API at "
                    + adminUrl + ": " + e.getMessage(), e);
        }
    }
}
