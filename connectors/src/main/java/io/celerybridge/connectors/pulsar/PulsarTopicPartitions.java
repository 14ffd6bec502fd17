package io.celerybridge.connectors.pulsar;

import org.apache.flink.annotation.PublicEvolving;

import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.common.naming.TopicName;
import org.apache.pulsar.client.admin.PulsarAdminException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

    /**
     * Partitions per topic (full name), 0 for a non-partitioned topic or one that does not exist
     * yet (auto-creation makes it non-partitioned).
     */
    public static Map<String, Integer> partitions(PulsarConnection connection, List<String> topics) {
        Map<String, Integer> out = new LinkedHashMap<>();
        try (PulsarAdmin admin = connection.admin()) {
            for (String topic : topics) {
                String name = TopicName.get(topic).getPartitionedTopicName();
                try {
                    out.put(name, admin.topics().getPartitionedTopicMetadata(topic).partitions);
                } catch (PulsarAdminException.NotFoundException e) {
                    out.put(name, 0);
                }
            }
            return out;
        } catch (PulsarAdminException e) {
            throw new IllegalStateException("cannot read the partitions of " + topics + " from the Pulsar admin API at "
                    + connection.adminUrl() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The smallest source parallelism from {@code atLeast} up to {@code atMost} at which the
     * connector gives every partition a reader of its own, or -1 if there is none.
     *
     * <p>Why: a reader with several partitions runs one fetcher thread per partition over one
     * shared hand-over queue, and Flink 1.20.5's FutureCompletingBlockingQueue can leave a
     * fetcher waiting forever for room that was signalled to another (FLINK-37663, fixed upstream
     * after 1.20.5): that partition stops being read while the others flow. One partition per
     * reader means one fetcher per queue. The owner of partition i of topic t is the connector's
     * {@code ((hash(t) * 31 & MAX_INT) % p + i) % p} (SplitAssignerImpl, 4.1.0).
     */
    public static int oneReaderPerPartition(Map<String, Integer> partitions, int atLeast, int atMost) {
        int total = partitions.values().stream().mapToInt(n -> Math.max(n, 1)).sum();
        for (int p = Math.max(atLeast, total); p <= atMost; p++) {
            java.util.Set<Integer> owners = new java.util.HashSet<>();
            boolean distinct = true;
            for (Map.Entry<String, Integer> t : partitions.entrySet()) {
                int start = ((t.getKey().hashCode() * 31) & Integer.MAX_VALUE) % p;
                for (int i = 0; i < t.getValue() && distinct; i++) {
                    distinct = owners.add((start + i) % p);
                }
            }
            if (distinct) {
                return p;
            }
        }
        return -1;
    }
}
