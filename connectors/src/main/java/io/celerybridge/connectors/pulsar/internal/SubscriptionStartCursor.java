package io.celerybridge.connectors.pulsar.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.connector.pulsar.source.enumerator.cursor.CursorPosition;
import org.apache.flink.connector.pulsar.source.enumerator.cursor.StartCursor;
import org.apache.flink.connector.pulsar.source.enumerator.topic.TopicNameUtils;

import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.impl.MessageIdImpl;
import org.apache.pulsar.common.policies.data.ManagedLedgerInternalStats.CursorStats;
import org.apache.pulsar.common.policies.data.PersistentTopicInternalStats;

import java.util.Map;
import java.util.function.Supplier;

/**
 * Starts a partition where the subscription left off (after its mark-delete position), or at the
 * earliest message if the subscription does not exist yet. The connector (4.1.0) always seeks a
 * newly assigned partition to its start cursor, so "continue the existing subscription" has to be
 * expressed as a cursor: this one reads the position through the admin API.
 */
@Internal
public final class SubscriptionStartCursor implements StartCursor {
    private static final long serialVersionUID = 1L;

    /** Creates the admin client on the enumerator; holds only configuration. */
    public interface AdminFactory extends Supplier<PulsarAdmin>, java.io.Serializable {}

    private final AdminFactory admin;
    private final String subscription;

    public SubscriptionStartCursor(AdminFactory admin, String subscription) {
        this.admin = admin;
        this.subscription = subscription;
    }

    @Override
    public CursorPosition position(String topic, int partitionId) {
        String name = partitionId >= 0 ? TopicNameUtils.topicNameWithPartition(topic, partitionId) : topic;
        try (PulsarAdmin a = admin.get()) {
            PersistentTopicInternalStats stats = a.topics().getInternalStats(name);
            Map<String, CursorStats> cursors = stats.cursors;
            CursorStats cursor = cursors == null ? null : cursors.get(subscription);
            if (cursor == null || cursor.markDeletePosition == null) {
                return new CursorPosition(MessageId.earliest, true);
            }
            String[] p = cursor.markDeletePosition.split(":");
            MessageId markDeleted = new MessageIdImpl(Long.parseLong(p[0]), Long.parseLong(p[1]), Math.max(partitionId, -1));
            return new CursorPosition(markDeleted, false);
        } catch (PulsarAdminException.NotFoundException e) {
            return new CursorPosition(MessageId.earliest, true);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the position of subscription '" + subscription + "' on " + name
                    + " from the Pulsar admin API: " + e.getMessage(), e);
        }
    }
}
