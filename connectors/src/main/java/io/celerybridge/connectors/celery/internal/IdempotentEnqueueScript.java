package io.celerybridge.connectors.celery.internal;

import io.celerybridge.connectors.celery.CeleryMessage;

import org.apache.flink.annotation.Internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one server-side step that marks events done and enqueues their tasks, for many events per
 * call. Per event, atomically: {@code SET dedup-key 1 NX EX ttl}, and {@code LPUSH} the envelope
 * only if the key was new. A replay finds the key and enqueues nothing; a crash before the call
 * leaves no key, so the replay enqueues.
 *
 * <p>Key layout (all in one Valkey primary, beside kombu's queues):
 * <ul>
 *   <li>{@code <dedup-prefix><idempotency key>}: string "1" with the dedup TTL;
 *   <li>{@code <global-prefix><queue>} and {@code ...\x06\x16{3,6,9}}: kombu's priority lists.
 * </ul>
 *
 * <p>Call layout: {@code KEYS} = for each distinct queue its four priority lists, then for each
 * event its dedup key and its list key; {@code ARGV} = ttl seconds, max queue depth (0 = none),
 * number of queues, then the envelopes.
 *
 * <p>Result: {@code "F<q>"} when queue number q (0-based) is at or above the max depth, in which
 * case NOTHING was written; else one character per event, {@code 1} enqueued, {@code 0} duplicate.
 *
 * <p>The {@code #!lua} shebang makes Valkey refuse the whole script up front when it is over
 * {@code maxmemory}, so an out-of-memory error can never leave a key marked without its task.
 */
@Internal
public final class IdempotentEnqueueScript {

    public static final String SOURCE = String.join("\n",
            "#!lua",
            "local ttl = ARGV[1]",
            "local max_depth = tonumber(ARGV[2])",
            "local queues = tonumber(ARGV[3])",
            "if max_depth > 0 then",
            "  for q = 0, queues - 1 do",
            "    local depth = 0",
            "    for b = 1, 4 do depth = depth + redis.call('LLEN', KEYS[q * 4 + b]) end",
            "    if depth >= max_depth then return 'F' .. q end",
            "  end",
            "end",
            "local base = queues * 4",
            "local n = (#KEYS - base) / 2",
            "local flags = {}",
            "for i = 1, n do",
            "  if redis.call('SET', KEYS[base + 2 * i - 1], '1', 'NX', 'EX', ttl) then",
            "    redis.call('LPUSH', KEYS[base + 2 * i], ARGV[3 + i])",
            "    flags[i] = '1'",
            "  else",
            "    flags[i] = '0'",
            "  end",
            "end",
            "return table.concat(flags)",
            "");

    public static final String SHA1 = sha1Hex(SOURCE);

    private static final String[] BUCKET_SUFFIXES = {"", "\u0006\u00163", "\u0006\u00166", "\u0006\u00169"};

    private IdempotentEnqueueScript() {}

    /** Keys and arguments for one call over {@code messages}. */
    public static Call call(List<CeleryMessage> messages, long ttlSeconds, long maxQueueDepth) {
        Map<String, Integer> queues = new LinkedHashMap<>();
        for (CeleryMessage m : messages) {
            queues.putIfAbsent(m.queueKey(), queues.size());
        }
        List<String> keys = new ArrayList<>(queues.size() * 4 + messages.size() * 2);
        for (String q : queues.keySet()) {
            for (String suffix : BUCKET_SUFFIXES) {
                keys.add(q + suffix);
            }
        }
        List<String> args = new ArrayList<>(3 + messages.size());
        args.add(Long.toString(ttlSeconds));
        args.add(Long.toString(maxQueueDepth));
        args.add(Integer.toString(queues.size()));
        for (CeleryMessage m : messages) {
            keys.add(m.dedupKey());
            keys.add(m.listKey());
            args.add(m.envelope());
        }
        return new Call(keys.toArray(new String[0]), args.toArray(new String[0]), new ArrayList<>(queues.keySet()));
    }

    /** Keys and arguments of one EVALSHA, and how to read its reply. */
    public static final class Call {
        public final String[] keys;
        public final String[] args;
        private final List<String> queues;

        Call(String[] keys, String[] args, List<String> queues) {
            this.keys = keys;
            this.args = args;
            this.queues = queues;
        }

        /** The queue found full, or null if the call wrote. */
        public String fullQueue(String reply) {
            return reply.startsWith("F") ? queues.get(Integer.parseInt(reply.substring(1))) : null;
        }
    }

    private static String sha1Hex(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required by every Java platform", e);
        }
    }
}
