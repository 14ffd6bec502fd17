package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.testutils.CeleryBackendReader;
import io.celerybridge.connectors.testutils.TestServers;

import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.common.policies.data.SubscriptionStats;
import org.apache.pulsar.common.policies.data.TopicStats;

import java.time.Duration;

import static org.assertj.core.api.Assertions.fail;

/**
 * Positive evidence that nothing more is on its way, where a test used to sleep before asserting
 * that something did NOT happen (a second task, a second execution).
 */
final class Settled {

    private Settled() {}

    /**
     * The stage's and the sink's buffers flush by time (udf.max_linger 50 ms, celery.max_time_in_buffer
     * 20 ms by default), and a checkpoint keeps what they hold in state: a margin well above both.
     */
    private static final long BUFFERS_MARGIN_MS = 1_000;

    /**
     * Waits until the job's subscription has no backlog on {@code topic}: every message was read, and
     * acknowledged, which the source does only once a checkpoint after it completed; then for the
     * buffers that checkpoint kept in state to flush (a margin, {@link #BUFFERS_MARGIN_MS}). So a
     * repeat that would make a second task was read, and its task would be out by now.
     */
    static void consumed(String topic, String subscription, Duration timeout) throws Exception {
        consumed(TestServers.pulsarAdminUrl(), topic, subscription, timeout);
    }

    static void consumed(String adminUrl, String topic, String subscription, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long backlog = -1;
        try (PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl(adminUrl).build()) {
            while (System.nanoTime() < deadline) {
                backlog = backlog(admin, topic, subscription);
                if (backlog == 0) {
                    Thread.sleep(BUFFERS_MARGIN_MS);
                    return;
                }
                Thread.sleep(200);
            }
        }
        fail("subscription " + subscription + " on " + topic + " still has " + backlog + " entries unacknowledged after " + timeout
                + " (-1: no such subscription): the job has not consumed (and checkpointed) everything");
    }

    /**
     * Waits until the Celery queue's lists and the worker's unacknowledged set are empty: every task
     * was fetched by the worker and (acks_late off) acknowledged when its pool took it, then a margin
     * ({@link #BUFFERS_MARGIN_MS}) for what kombu does in separate steps: a task popped but not yet in
     * {@code unacked}, or acknowledged but not yet counted by {@code task_prerun}.
     */
    static void fetchedByWorker(CeleryBackendReader valkey, String queue, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long waiting = -1;
        while (System.nanoTime() < deadline) {
            waiting = valkey.redis().hlen("unacked");
            for (String list : CeleryEnvelopeCodec.priorityListKeys(queue)) {
                waiting += valkey.redis().llen(list);
            }
            if (waiting == 0) {
                Thread.sleep(BUFFERS_MARGIN_MS);
                return;
            }
            Thread.sleep(200);
        }
        fail(waiting + " tasks still queued or unacknowledged in '" + queue + "' after " + timeout + ": is the worker consuming it?");
    }

    private static long backlog(PulsarAdmin admin, String topic, String subscription) throws PulsarAdminException {
        TopicStats stats = admin.topics().getPartitionedTopicMetadata(topic).partitions > 0
                ? admin.topics().getPartitionedStats(topic, false) : admin.topics().getStats(topic);
        SubscriptionStats sub = stats.getSubscriptions().get(subscription);
        return sub == null ? -1 : sub.getMsgBacklog();
    }
}
