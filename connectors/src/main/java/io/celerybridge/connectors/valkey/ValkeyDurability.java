package io.celerybridge.connectors.valkey;

import org.apache.flink.annotation.PublicEvolving;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.api.sync.RedisCommands;

import java.util.Map;
import java.util.Optional;

/**
 * What a Valkey server keeps of a write it acknowledged, and whether it may evict keys, as its
 * settings say ({@code CONFIG GET}, {@code INFO}). Read once at start-up: a dedup mark or a queued
 * task that the server drops after it answered is an event lost or run twice, and nothing in the
 * job can see it happen.
 */
@PublicEvolving
public final class ValkeyDurability {

    private final String maxmemoryPolicy;
    private final long maxmemory;
    private final boolean appendonly;
    private final String appendfsync;
    private final String save;
    private final String role;
    private final int connectedReplicas;

    ValkeyDurability(String maxmemoryPolicy, long maxmemory, boolean appendonly, String appendfsync, String save,
            String role, int connectedReplicas) {
        this.maxmemoryPolicy = maxmemoryPolicy;
        this.maxmemory = maxmemory;
        this.appendonly = appendonly;
        this.appendfsync = appendfsync;
        this.save = save;
        this.role = role;
        this.connectedReplicas = connectedReplicas;
    }

    /**
     * Reads the settings.
     *
     * @throws NotReadable with the server's reply, when it refuses {@code CONFIG GET} (managed
     *     services often do, and an ACL user may lack {@code +config|get}): the caller says it could
     *     not check
     */
    public static ValkeyDurability read(RedisCommands<String, String> valkey) throws NotReadable {
        try {
            String policy = config(valkey, "maxmemory-policy");
            long maxmemory = Long.parseLong(config(valkey, "maxmemory"));
            boolean aof = "yes".equals(config(valkey, "appendonly"));
            String fsync = config(valkey, "appendfsync");
            String save = config(valkey, "save");
            String replication = valkey.info("replication");
            return new ValkeyDurability(policy, maxmemory, aof, fsync, save.trim(),
                    infoField(replication, "role").orElse("master"),
                    Integer.parseInt(infoField(replication, "connected_slaves").orElse("0")));
        } catch (RedisCommandExecutionException e) {
            throw new NotReadable(e.getMessage());
        }
    }

    private static String config(RedisCommands<String, String> valkey, String name) throws NotReadable {
        Map<String, String> reply = valkey.configGet(name);
        String value = reply.get(name);
        if (value == null) {
            throw new NotReadable("CONFIG GET " + name + " returned nothing");
        }
        return value;
    }

    private static Optional<String> infoField(String info, String field) {
        return info.lines().filter(l -> l.startsWith(field + ":")).map(l -> l.substring(field.length() + 1).trim()).findFirst();
    }

    /** True if the server may evict keys when it reaches {@code maxmemory}. */
    public boolean evicts() {
        return !"noeviction".equals(maxmemoryPolicy);
    }

    public String maxmemoryPolicy() {
        return maxmemoryPolicy;
    }

    /** {@code maxmemory} in bytes; 0 means no limit. */
    public long maxmemory() {
        return maxmemory;
    }

    public boolean appendonly() {
        return appendonly;
    }

    public int connectedReplicas() {
        return connectedReplicas;
    }

    /** What eviction under this policy does to the job's keys; empty with noeviction. */
    public Optional<String> evictionRisk() {
        if (!evicts()) {
            return Optional.empty();
        }
        String limit = maxmemory == 0 ? "no maxmemory set now, so nothing is evicted until one is set"
                : "maxmemory " + maxmemory + " bytes";
        if (maxmemoryPolicy.startsWith("volatile-")) {
            return Optional.of("maxmemory-policy " + maxmemoryPolicy + " (" + limit + ") evicts keys that have a TTL: "
                    + "dedup marks, so an event that arrives again after its mark was evicted is enqueued twice");
        }
        return Optional.of("maxmemory-policy " + maxmemoryPolicy + " (" + limit + ") evicts any key: queue lists, "
                + "so queued tasks are lost, and dedup marks, so repeats are enqueued twice");
    }

    /** What an acknowledged enqueue survives under these settings, in plain words. */
    public String describe() {
        String persistence;
        if (appendonly && "always".equals(appendfsync)) {
            persistence = "append-only file, fsync always: an acknowledged enqueue survives a crash or kill of Valkey";
        } else if (appendonly && "everysec".equals(appendfsync)) {
            persistence = "append-only file, fsync every second: a crash or kill of Valkey (or of its machine) can lose "
                    + "about the last second of acknowledged enqueues and their dedup marks; a clean restart keeps them";
        } else if (appendonly) {
            persistence = "append-only file, fsync left to the OS (appendfsync " + appendfsync + "): a crash of the machine can "
                    + "lose about the last 30 s of acknowledged enqueues; a kill of Valkey alone or a clean restart keeps them";
        } else if (!save.isEmpty()) {
            persistence = "RDB snapshots only (save " + save + "): a crash or kill of Valkey loses every enqueue and dedup mark "
                    + "since the last snapshot, tasks that were already checkpointed past; a clean shutdown saves";
        } else {
            persistence = "no persistence (no append-only file, no snapshots): a restart loses every queued task and dedup mark";
        }
        String replication;
        if (!"master".equals(role)) {
            replication = "this server is a " + role + ", not a primary";
        } else if (connectedReplicas == 0) {
            replication = "no replicas connected";
        } else {
            replication = connectedReplicas + " replica(s) connected, replicated asynchronously: a failover can lose the "
                    + "last enqueues unless valkey.wait_replicas makes the sink wait for them";
        }
        String eviction = evictionRisk().orElse("maxmemory-policy noeviction: nothing is evicted; when full, the sink waits");
        return persistence + "; " + replication + "; " + eviction;
    }

    /** The server refused to show its settings. */
    public static final class NotReadable extends Exception {
        private static final long serialVersionUID = 1L;

        NotReadable(String reply) {
            super(reply);
        }
    }
}
