package io.celerybridge.job;

import io.celerybridge.connectors.pulsar.TopicTraffic;
import io.celerybridge.connectors.valkey.ValkeyDurability;
import io.celerybridge.job.config.BridgeConfig;
import io.celerybridge.job.config.BridgeOptions;
import io.celerybridge.job.config.ConfigException;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the job checks of Valkey before it starts: that it can connect and run what the pipeline
 * runs, what an answered enqueue survives on this server, that nothing may evict its keys, and
 * whether the dedup marks the coming events leave behind fit in {@code maxmemory}.
 */
final class ValkeyStartupCheck {

    private static final Logger LOG = LoggerFactory.getLogger(ValkeyStartupCheck.class);
    /** used_memory per dedup mark with its TTL, measured on Valkey 8.0 (200,000 marks; README "Valkey durability"). */
    static final long BYTES_PER_DEDUP_MARK = 170;

    private ValkeyStartupCheck() {}

    /**
     * Connects once with the configured credentials and TLS settings, so a wrong password, user or
     * certificate stops the job at start-up with the reason rather than in a restart loop; then
     * checks durability and eviction.
     *
     * @return the server's settings, or null if it does not let the job read them
     * @throws ConfigException naming the keys, if Valkey cannot be used as configured
     */
    static ValkeyDurability check(BridgeConfig config) {
        RedisClient client = CeleryBridgeJob.valkey(config).createClient();
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            c.sync().ping();
            // What the idempotency check and the dead-letter marks run: an ACL user without them
            // would otherwise fail the job at its first lookup, in a restart loop.
            String probe = CeleryBridgeJob.codec(config).dedupKey("~start-up-probe");
            c.sync().get(probe);
            c.sync().pttl(probe);
            c.sync().eval("return 1", ScriptOutputType.INTEGER);
            return checkDurability(config, c.sync());
        } catch (ConfigException e) {
            throw e;
        } catch (RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            throw new ConfigException("cannot use Valkey at "
                    + config.maskedValkeyUri() + " (config keys 'valkey.uri', "
                    + "'valkey.password(_file)', 'valkey.tls_ca_file'): " + root.getClass().getSimpleName() + ": "
                    + BridgeConfig.maskUriPassword(String.valueOf(root.getMessage())));
        } finally {
            client.shutdown();
        }
    }

    /** How many dedup marks {@code maxmemory} holds; 0 if unknown or unlimited. */
    static long dedupMarkBudget(ValkeyDurability durability) {
        return durability == null ? 0 : durability.maxmemory() / BYTES_PER_DEDUP_MARK;
    }

    /**
     * Says what the server's settings keep of an acknowledged enqueue, and refuses a server that may
     * evict keys unless the user accepted it: nothing in the job can see a mark or a task evicted.
     */
    private static ValkeyDurability checkDurability(BridgeConfig config, RedisCommands<String, String> valkey) {
        ValkeyDurability durability;
        try {
            durability = ValkeyDurability.read(valkey);
        } catch (ValkeyDurability.NotReadable e) {
            LOG.warn("could not read Valkey's persistence and eviction settings at {} (CONFIG GET refused: {}): durability and "
                    + "eviction not checked; the guarantees need maxmemory-policy noeviction, and an append-only file with "
                    + "appendfsync always to survive a crash of Valkey", config.maskedValkeyUri(), e.getMessage());
            return null;
        }
        LOG.info("Valkey at {}: {}", config.maskedValkeyUri(), durability.describe());
        if (config.get(BridgeOptions.VALKEY_WAIT_AOF) && !durability.appendonly()) {
            throw new ConfigException("valkey.wait_aof is true but Valkey at " + config.maskedValkeyUri()
                    + " has no append-only file (appendonly no): WAITAOF would be refused on every enqueue. "
                    + "Set appendonly yes on the server, or valkey.wait_aof: false");
        }
        if (durability.maxmemory() > 0) {
            // One dedup mark lives for cache_ttl, so memory ~ event rate x cache_ttl x bytes per mark.
            long marks = dedupMarkBudget(durability);
            long ttl = Math.max(1, config.get(BridgeOptions.CACHE_TTL).toSeconds());
            LOG.info("Valkey maxmemory {} bytes holds about {} dedup marks (about {} bytes each): at most about {} events/s "
                    + "sustained with cache_ttl {} s, less what the queues and results take; above that Valkey answers OOM "
                    + "and the sink waits", durability.maxmemory(), marks, BYTES_PER_DEDUP_MARK, marks / ttl, ttl);
        }
        int replicas = config.get(BridgeOptions.VALKEY_WAIT_REPLICAS);
        if (replicas > durability.connectedReplicas()) {
            LOG.warn("valkey.wait_replicas is {} but {} replica(s) are connected to Valkey at {}: the sink holds its enqueues "
                    + "(and checkpoints wait) until enough replicas acknowledge them", replicas, durability.connectedReplicas(),
                    config.maskedValkeyUri());
        }
        if (durability.evicts()) {
            String risk = durability.evictionRisk().orElseThrow();
            if (!config.get(BridgeOptions.VALKEY_ALLOW_EVICTION)) {
                throw new ConfigException("Valkey at " + config.maskedValkeyUri() + " may evict keys: "
                        + risk + ". Set maxmemory-policy noeviction on the server (the sink then waits while Valkey is full), "
                        + "or accept the risk with valkey.allow_eviction: true");
            }
            LOG.warn("Valkey may evict keys and valkey.allow_eviction is true: {}", risk);
        }
        return durability;
    }

    /**
     * Warns when the dedup marks the coming events leave in Valkey would not fit in {@code
     * maxmemory}: the subscription's backlog (all read within the TTL, at catch-up speed) plus the
     * topics' publish rate over {@code cache_ttl}, as the broker reports them. The running sink
     * keeps watching (metric {@code idempotencyKeysProjected}): the broker's rate can be a minute
     * old, and the traffic changes.
     *
     * @return the dedup marks projected, or -1 if not projected (maxmemory unknown or unlimited, or
     *     the broker's stats not readable)
     */
    static long warnIfDedupMarksOutgrowValkey(BridgeConfig config, ValkeyDurability durability) {
        if (durability == null || durability.maxmemory() == 0) {
            return -1;
        }
        TopicTraffic traffic;
        try {
            traffic = TopicTraffic.read(CeleryBridgeJob.pulsarConnection(config), config.get(BridgeOptions.TOPIC),
                    config.get(BridgeOptions.PULSAR_SUBSCRIPTION));
        } catch (Exception e) {
            LOG.info("could not read the topics' publish rate and backlog ({}): the dedup marks they need are not projected "
                    + "at start-up; the sink's metric idempotencyKeysProjected and its warnings still are", e.getMessage());
            return -1;
        }
        long ttl = Math.max(1, config.get(BridgeOptions.CACHE_TTL).toSeconds());
        long marks = Math.round(traffic.publishRate() * ttl) + traffic.backlog();
        long bytes = marks * BYTES_PER_DEDUP_MARK;
        if (bytes > durability.maxmemory()) {
            LOG.warn("the events waiting and arriving need about {} dedup marks in Valkey ({} waiting on subscription '{}', "
                    + "{} events/s published x cache_ttl {} s), about {} bytes at {} bytes each: more than Valkey's maxmemory "
                    + "{} bytes. When it is full, a noeviction Valkey refuses enqueues and the sink waits until marks expire. "
                    + "Raise maxmemory, or shorten cache_ttl if repeats come sooner", marks, traffic.backlog(),
                    config.get(BridgeOptions.PULSAR_SUBSCRIPTION), Math.round(traffic.publishRate()), ttl, bytes,
                    BYTES_PER_DEDUP_MARK, durability.maxmemory());
        } else {
            LOG.info("the events waiting and arriving need about {} dedup marks ({} bytes) of Valkey's maxmemory {} bytes "
                    + "({} waiting, {} events/s published, cache_ttl {} s)", marks, bytes, durability.maxmemory(),
                    traffic.backlog(), Math.round(traffic.publishRate()), ttl);
        }
        return marks;
    }
}
