package io.celerybridge.connectors.celery.internal;

import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
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
 * The envelopes for one list go in ONE multi-value LPUSH (in event order): per event the server
 * then runs one SET and a share of one LPUSH, which is what makes batching pay. If an LPUSH
 * fails (a list key holding another type), the marks of every event not yet pushed are removed
 * before the error is returned, so no event is ever marked without its task.
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
            "local lists = {}",
            "local order = {}",
            "for i = 1, n do",
            "  if redis.call('SET', KEYS[base + 2 * i - 1], '1', 'NX', 'EX', ttl) then",
            "    local list = KEYS[base + 2 * i]",
            "    local group = lists[list]",
            "    if not group then group = {}; lists[list] = group; order[#order + 1] = list end",
            "    group[#group + 1] = i",
            "    flags[i] = '1'",
            "  else",
            "    flags[i] = '0'",
            "  end",
            "end",
            // One LPUSH per list, in event order: what a stock worker pops first stays first.
            "for _, list in ipairs(order) do",
            "  local group = lists[list]",
            "  local values = {}",
            "  for j = 1, #group do values[j] = ARGV[3 + group[j]] end",
            "  local ok = redis.pcall('LPUSH', list, unpack(values))",
            "  if type(ok) == 'table' and ok.err then",
            // Undo the marks whose tasks could not be pushed, so a retry enqueues them.
            "    for _, l in ipairs(order) do",
            "      if l == list then break end",
            "      lists[l] = nil",
            "    end",
            "    for _, l in ipairs(order) do",
            "      local g = lists[l]",
            "      if g then for j = 1, #g do redis.call('DEL', KEYS[base + 2 * g[j] - 1]) end end",
            "    end",
            "    return redis.error_reply(ok.err)",
            "  end",
            "end",
            "return table.concat(flags)",
            "");

    public static final String SHA1 = sha1Hex(SOURCE);

    private IdempotentEnqueueScript() {}

    /** Keys and arguments for one call over {@code messages}. */
    /** Upper bound of messages per call: Lua's unpack() of one LPUSH's values must fit its C stack. */
    public static final int MAX_MESSAGES_PER_CALL = 1000;

    public static Call call(List<CeleryMessage> messages, long ttlSeconds, long maxQueueDepth) {
        Map<String, Integer> queues = new LinkedHashMap<>();
        for (CeleryMessage m : messages) {
            queues.putIfAbsent(m.queueKey(), queues.size());
        }
        List<String> keys = new ArrayList<>(queues.size() * 4 + messages.size() * 2);
        for (String q : queues.keySet()) {
            keys.addAll(java.util.Arrays.asList(CeleryEnvelopeCodec.priorityListKeys(q)));
        }
        byte[][] args = new byte[3 + messages.size()][];
        args[0] = ascii(Long.toString(ttlSeconds));
        args[1] = ascii(Long.toString(maxQueueDepth));
        args[2] = ascii(Integer.toString(queues.size()));
        int i = 3;
        for (CeleryMessage m : messages) {
            keys.add(m.dedupKey());
            keys.add(m.listKey());
            args[i++] = ascii(m.envelope());
        }
        return new Call(keys.toArray(new String[0]), args, new ArrayList<>(queues.keySet()));
    }

    /** Keys and arguments of one EVALSHA, and how to read its reply. */
    public static final class Call {
        public final String[] keys;
        public final byte[][] args;
        private final List<String> queues;

        Call(String[] keys, byte[][] args, List<String> queues) {
            this.keys = keys;
            this.args = args;
            this.queues = queues;
        }

        /** The queue found full, or null if the call wrote. */
        public String fullQueue(String reply) {
            return reply.startsWith("F") ? queues.get(Integer.parseInt(reply.substring(1))) : null;
        }
    }

    /** Envelopes and numbers are ASCII, so ISO-8859-1 gives the same bytes, by array copy for compact strings. */
    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String sha1Hex(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required by every Java platform", e);
        }
    }
}
