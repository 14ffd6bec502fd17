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
 * only if the key was new, or held another decision than an enqueue (a dead letter's mark, which
 * the task then replaces: a task that reaches the sink is never dropped for it). A replay finds the key and enqueues nothing; a crash before the call
 * leaves no key, so the replay enqueues.
 *
 * <p>Key layout (all in one Valkey primary, beside kombu's queues):
 * <ul>
 *   <li>{@code <dedup-prefix><idempotency key>}: string "1" with the dedup TTL;
 *   <li>{@code <global-prefix><queue>} and {@code ...\x06\x16{3,6,9}}: kombu's priority lists.
 * </ul>
 *
 * <p>Call layout: {@code KEYS} = for each distinct queue its four priority lists, then for each
 * message its dedup key, its list key and its members' dedup keys (a batch task); {@code ARGV} =
 * ttl seconds, max queue depth (0 = none), number of queues, then per message its member count
 * and its envelope.
 *
 * <p>Result: {@code "F<q>"} when queue number q (0-based) is at or above the max depth, in which
 * case NOTHING was written; else one character per message, {@code 1} enqueued, {@code 0}
 * duplicate, {@code C} a batch with members already enqueued by other tasks (nothing written for
 * it), followed, if any {@code C}, by {@code |} and per {@code C} a mask of its members
 * ({@code 1} = already enqueued), comma-separated. A batch is enqueued with all its members
 * marked, or not at all: no member ever runs in two tasks.
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
            // Only an enqueue mark ('1') makes a task a duplicate; another decision recorded under the
            // key (a dead letter's) gives way, so a task that gets this far is never dropped for it.
            "local function claim(key)",
            "  if redis.call('SET', key, '1', 'NX', 'EX', ttl) then return true end",
            "  if redis.call('GET', key) == '1' then return false end",
            "  redis.call('SET', key, '1', 'EX', ttl)",
            "  return true",
            "end",
            "local k = queues * 4",
            "local a = 3",
            "local flags = {}",
            "local conflicts = {}",
            "local marks = {}",
            "local lists = {}",
            "local order = {}",
            "local i = 0",
            "while a < #ARGV do",
            "  i = i + 1",
            "  local members = tonumber(ARGV[a + 1])",
            "  local envelope = a + 2",
            "  local dedup = k + 1",
            "  local list = KEYS[k + 2]",
            "  local first = k + 3",
            "  k = k + 2 + members",
            "  a = a + 2",
            "  flags[i] = '0'",
            "  if claim(KEYS[dedup]) then",
            "    local set = {dedup}",
            "    local mask = {}",
            "    local done = false",
            // A batch whose members were (partly) enqueued by other tasks writes nothing: the
            // sink re-encodes it without them and sends it again.
            "    for j = 0, members - 1 do",
            "      if redis.call('GET', KEYS[first + j]) == '1' then mask[j + 1] = '1'; done = true else mask[j + 1] = '0' end",
            "    end",
            "    if done then",
            "      redis.call('DEL', KEYS[dedup])",
            "      flags[i] = 'C'",
            "      conflicts[#conflicts + 1] = table.concat(mask)",
            "    else",
            "      for j = 0, members - 1 do",
            "        redis.call('SET', KEYS[first + j], '1', 'EX', ttl)",
            "        set[#set + 1] = first + j",
            "      end",
            "      marks[i] = set",
            "      local group = lists[list]",
            "      if not group then group = {}; lists[list] = group; order[#order + 1] = list end",
            "      group[#group + 1] = {i, envelope}",
            "      flags[i] = '1'",
            "    end",
            "  end",
            "end",
            // One LPUSH per list, in message order: what a stock worker pops first stays first.
            "for _, list in ipairs(order) do",
            "  local group = lists[list]",
            "  local values = {}",
            "  for j = 1, #group do values[j] = ARGV[group[j][2]] end",
            "  local ok = redis.pcall('LPUSH', list, unpack(values))",
            "  if type(ok) == 'table' and ok.err then",
            // Undo the marks whose tasks could not be pushed, so a retry enqueues them.
            "    for _, l in ipairs(order) do",
            "      if l == list then break end",
            "      lists[l] = nil",
            "    end",
            "    for _, l in ipairs(order) do",
            "      local g = lists[l]",
            "      if g then for j = 1, #g do for _, key in ipairs(marks[g[j][1]]) do redis.call('DEL', KEYS[key]) end end end",
            "    end",
            "    return redis.error_reply(ok.err)",
            "  end",
            "end",
            "if #conflicts > 0 then return table.concat(flags) .. '|' .. table.concat(conflicts, ',') end",
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
        byte[][] args = new byte[3 + 2 * messages.size()][];
        args[0] = ascii(Long.toString(ttlSeconds));
        args[1] = ascii(Long.toString(maxQueueDepth));
        args[2] = ascii(Integer.toString(queues.size()));
        int i = 3;
        for (CeleryMessage m : messages) {
            keys.add(m.dedupKey());
            keys.add(m.listKey());
            keys.addAll(m.memberDedupKeys());
            args[i++] = m.memberDedupKeys().isEmpty() ? ZERO : ascii(Integer.toString(m.memberDedupKeys().size()));
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

        /** One flag per message: '1' enqueued, '0' duplicate, 'C' batch in conflict. */
        public static String flags(String reply) {
            int bar = reply.indexOf('|');
            return bar < 0 ? reply : reply.substring(0, bar);
        }

        /** Per 'C' flag, in order, the mask of members already enqueued ('1'). */
        public static String[] conflictMasks(String reply) {
            int bar = reply.indexOf('|');
            return bar < 0 ? new String[0] : reply.substring(bar + 1).split(",");
        }
    }

    /** Envelopes and numbers are ASCII, so ISO-8859-1 gives the same bytes, by array copy for compact strings. */
    private static final byte[] ZERO = {'0'};

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
