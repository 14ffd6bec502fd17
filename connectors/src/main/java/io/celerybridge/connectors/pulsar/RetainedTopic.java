package io.celerybridge.connectors.pulsar;

import org.apache.flink.annotation.PublicEvolving;

import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.common.naming.TopicName;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Makes a topic that is only produced to (a dead-letter topic, a fan-out topic) keep its messages
 * on a stock broker, and refuses to start where the broker would still drop them.
 *
 * <p>Why: with Pulsar's defaults ({@code brokerDeleteInactiveTopicsEnabled=true}, mode
 * {@code delete_when_no_subscriptions}, retention 0) a topic without a subscription is deleted,
 * messages and all, about a minute after its last producer leaves, and its closed ledgers are
 * trimmed even while it lives. A durable subscription, created at the earliest position, keeps
 * every message until it is acknowledged there. Policies that would still drop unacknowledged
 * messages (a message TTL, subscription expiry) are checked: they stop the job, naming the setting.
 */
@PublicEvolving
public final class RetainedTopic {

    private static final Logger LOG = LoggerFactory.getLogger(RetainedTopic.class);

    private RetainedTopic() {}

    /**
     * Creates {@code subscription} on {@code topic} (and the topic, if missing) unless it exists,
     * then checks the policies that could still drop what it holds.
     *
     * @param what what the topic is for, for messages ("the DLQ topic (dlq_topic)")
     * @throws IllegalStateException naming the setting, if the broker would drop unacknowledged messages
     */
    public static void ensure(PulsarConnection connection, String topic, String subscription, String what) {
        try (PulsarAdmin admin = connection.admin()) {
            createSubscription(admin, topic, subscription);
            try {
                checkMessageTtl(admin, topic, what);
                checkSubscriptionExpiry(admin, topic, subscription, what);
            } catch (PulsarAdminException.NotAuthorizedException e) {
                // Reading policies can need rights the job's role does not have; the subscription is what matters.
                LOG.warn("could not check the message TTL and subscription expiry of {} {} ({}): if either is set, the broker "
                        + "drops records nobody has replayed yet", what, topic, e.getMessage());
            }
        } catch (PulsarAdminException e) {
            throw new IllegalStateException("cannot make sure " + what + " " + topic + " keeps its messages (durable subscription '"
                    + subscription + "' through the admin API at " + connection.adminUrl() + "): " + e.getMessage(), e);
        }
    }

    private static void createSubscription(PulsarAdmin admin, String topic, String subscription) throws PulsarAdminException {
        try {
            admin.topics().createSubscription(topic, subscription, MessageId.earliest);
            LOG.info("created durable subscription '{}' on {} so the broker keeps its messages", subscription, topic);
        } catch (PulsarAdminException.ConflictException exists) {
            // already there: it keeps whatever it has not acknowledged
        } catch (PulsarAdminException.NotFoundException noTopic) {
            // auto-creation is off on this broker
            try {
                admin.topics().createNonPartitionedTopic(topic);
            } catch (PulsarAdminException.ConflictException raced) {
                // created meanwhile
            }
            createSubscription(admin, topic, subscription);
        }
    }

    private static void checkMessageTtl(PulsarAdmin admin, String topic, String what) throws PulsarAdminException {
        Integer ttl;
        String level;
        try {
            // applied: the topic's policy, else the namespace's, else the broker's default
            ttl = admin.topicPolicies().getMessageTTL(topic, true);
            level = "topic, namespace or broker (ttlDurationDefaultInSeconds)";
        } catch (PulsarAdminException.NotAllowedException | PulsarAdminException.NotFoundException | PulsarAdminException.ServerSideErrorException e) {
            // topic policies off on this broker: the namespace's policy is what there is to read
            ttl = admin.namespaces().getNamespaceMessageTTL(TopicName.get(topic).getNamespace());
            level = "namespace";
        }
        if (ttl != null && ttl > 0) {
            throw new IllegalStateException(what + " " + topic + " has a message TTL of " + ttl + " s (" + level
                    + " policy): the broker would acknowledge and drop records nobody has read yet. Remove it "
                    + "(pulsar-admin topicPolicies remove-message-ttl / namespaces remove-message-ttl) or set it to 0 for this topic.");
        }
    }

    private static void checkSubscriptionExpiry(PulsarAdmin admin, String topic, String subscription, String what)
            throws PulsarAdminException {
        String namespace = TopicName.get(topic).getNamespace();
        Integer minutes = admin.namespaces().getSubscriptionExpirationTime(namespace);
        String level = "namespace " + namespace;
        if (minutes == null) {
            level = "broker (subscriptionExpirationTimeMinutes)";
            minutes = brokerSetting(admin, "subscriptionExpirationTimeMinutes");
        }
        if (minutes != null && minutes > 0) {
            throw new IllegalStateException(what + " " + topic + ": inactive subscriptions expire after " + minutes + " min ("
                    + level + "), which would delete '" + subscription + "' and with it every record it keeps. Set the "
                    + "namespace's subscription expiration time to 0 (pulsar-admin namespaces set-subscription-expiration-time -t 0).");
        }
    }

    /** A broker setting, or null where the admin API does not show it (it needs super-user rights). */
    private static Integer brokerSetting(PulsarAdmin admin, String name) {
        try {
            Map<String, String> config = admin.brokers().getRuntimeConfigurations();
            String value = config.get(name);
            return value == null || value.isEmpty() ? null : Integer.valueOf(value.trim());
        } catch (PulsarAdminException | NumberFormatException e) {
            LOG.warn("could not read the broker setting {} ({}); if it is above 0, inactive subscriptions expire and take "
                    + "the records they keep with them", name, e.getMessage());
            return null;
        }
    }
}
