package io.celerybridge.connectors.pulsar;

import org.apache.flink.annotation.PublicEvolving;

import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.common.policies.data.SubscriptionStats;
import org.apache.pulsar.common.policies.data.TopicStats;

import java.util.List;

/**
 * What the broker reports of the traffic on topics: their publish rate, and how many messages a
 * subscription has not acknowledged yet. Lets a job size what it will write per event before it
 * starts.
 *
 * <p>The rate is the broker's: it refreshes it every {@code statsUpdateFrequencyInSecs} (60 s by
 * default), so it is 0 on a topic whose producers started within the last minute.
 */
@PublicEvolving
public final class TopicTraffic {

    private final double publishRate;
    private final long backlog;

    private TopicTraffic(double publishRate, long backlog) {
        this.publishRate = publishRate;
        this.backlog = backlog;
    }

    /**
     * The sum over {@code topics} (partitioned or not; a topic that does not exist counts 0).
     *
     * @throws PulsarAdminException if the admin API refuses (e.g. a role without stats rights)
     */
    public static TopicTraffic read(PulsarConnection connection, List<String> topics, String subscription) throws PulsarAdminException {
        double rate = 0;
        long backlog = 0;
        try (PulsarAdmin admin = connection.admin()) {
            for (String topic : topics) {
                TopicStats stats;
                try {
                    // subscriptionBacklogSize: the subscription's backlog in bytes, see below
                    stats = admin.topics().getPartitionedTopicMetadata(topic).partitions > 0
                            ? admin.topics().getPartitionedStats(topic, false, false, true, false)
                            : admin.topics().getStats(topic, false, true, false);
                } catch (PulsarAdminException.NotFoundException e) {
                    continue;
                }
                rate += stats.getMsgRateIn();
                SubscriptionStats sub = stats.getSubscriptions().get(subscription);
                if (sub != null) {
                    backlog += messages(sub, stats);
                }
            }
        }
        return new TopicTraffic(rate, backlog);
    }

    /**
     * The subscription's backlog in messages. The broker's {@code msgBacklog} counts entries, and a
     * batching producer puts many messages in one (10,000 messages were 56 entries in a test), so
     * the backlog's bytes are divided by the topic's bytes per message instead; {@code msgBacklog}
     * is the fallback when nothing was published since the topic was loaded.
     */
    private static long messages(SubscriptionStats sub, TopicStats topic) {
        if (topic.getMsgInCounter() > 0 && topic.getBytesInCounter() > 0 && sub.getBacklogSize() > 0) {
            return Math.max(sub.getMsgBacklog(),
                    Math.round((double) sub.getBacklogSize() * topic.getMsgInCounter() / topic.getBytesInCounter()));
        }
        return sub.getMsgBacklog();
    }

    /** Messages per second published to the topics, as the broker last measured it. */
    public double publishRate() {
        return publishRate;
    }

    /** Messages the subscription has not acknowledged; 0 if it does not exist yet. */
    public long backlog() {
        return backlog;
    }
}
