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

    /**
     * The script ({@code idempotent-enqueue.lua} beside this class) without its comment lines: its
     * SHA-1 is part of the deployment (an admin may preload it for an ACL user without SCRIPT LOAD),
     * so a comment must not change it. {@code EnqueueReplyTest} pins it.
     */
    public static final String SOURCE = readScript();


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
        return new Call(keys.toArray(new String[0]), args, new ArrayList<>(queues.keySet()), messages.size());
    }

    /** Keys and arguments of one EVALSHA, and how to read its reply. */
    public static final class Call {
        public final String[] keys;
        public final byte[][] args;
        private final List<String> queues;
        private final int messages;

        Call(String[] keys, byte[][] args, List<String> queues, int messages) {
            this.keys = keys;
            this.args = args;
            this.queues = queues;
            this.messages = messages;
        }

        /** Reads the script's reply to this call; an unexpected one is an {@link IllegalStateException} that quotes it. */
        public Reply reply(byte[] raw) {
            if (raw == null) {
                throw new IllegalStateException("unexpected reply from the enqueue script: nil");
            }
            return Reply.parse(new String(raw, StandardCharsets.US_ASCII), queues, messages);
        }
    }

    /** What happened to each message of a call. */
    public enum Outcome {
        ENQUEUED, DUPLICATE,
        /** A batch task with members other tasks already enqueued: nothing written; see {@link Reply#enqueuedMembers}. */
        CONFLICT
    }

    /** The script's reply, typed: a full queue (nothing written), or an outcome per message. */
    public static final class Reply {
        private final String fullQueue;
        private final Outcome[] outcomes;
        private final String[] masks; // per message: its members' mask if CONFLICT

        private Reply(String fullQueue, Outcome[] outcomes, String[] masks) {
            this.fullQueue = fullQueue;
            this.outcomes = outcomes;
            this.masks = masks;
        }

        static Reply parse(String reply, List<String> queues, int messages) {
            try {
                if (reply.startsWith("F")) {
                    return new Reply(queues.get(Integer.parseInt(reply.substring(1))), new Outcome[0], new String[0]);
                }
                int bar = reply.indexOf('|');
                String flags = bar < 0 ? reply : reply.substring(0, bar);
                String[] conflictMasks = bar < 0 ? new String[0] : reply.substring(bar + 1).split(",");
                if (flags.length() != messages) {
                    throw new IllegalArgumentException(flags.length() + " flags for " + messages + " messages");
                }
                Outcome[] outcomes = new Outcome[messages];
                String[] masks = new String[messages];
                int conflict = 0;
                for (int i = 0; i < messages; i++) {
                    char f = flags.charAt(i);
                    outcomes[i] = f == '1' ? Outcome.ENQUEUED : f == '0' ? Outcome.DUPLICATE : f == 'C' ? Outcome.CONFLICT : null;
                    if (outcomes[i] == null) {
                        throw new IllegalArgumentException("flag '" + f + "'");
                    }
                    if (outcomes[i] == Outcome.CONFLICT) {
                        masks[i] = conflictMasks[conflict++];
                    }
                }
                if (conflict != conflictMasks.length) {
                    throw new IllegalArgumentException(conflictMasks.length + " masks for " + conflict + " conflicts");
                }
                return new Reply(null, outcomes, masks);
            } catch (RuntimeException e) {
                throw new IllegalStateException("unexpected reply from the enqueue script: '" + reply + "' (" + e.getMessage() + ")", e);
            }
        }

        /** The queue found at its max depth (nothing was written), or null. */
        public String fullQueue() {
            return fullQueue;
        }

        public Outcome outcome(int message) {
            return outcomes[message];
        }

        /** For a {@link Outcome#CONFLICT}: per member, '1' if another task already enqueued it. */
        public String enqueuedMembers(int message) {
            return masks[message];
        }
    }

    /** Envelopes and numbers are ASCII, so ISO-8859-1 gives the same bytes, by array copy for compact strings. */
    private static final byte[] ZERO = {'0'};

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String readScript() {
        try (java.io.InputStream in = IdempotentEnqueueScript.class.getResourceAsStream("idempotent-enqueue.lua")) {
            if (in == null) {
                throw new IllegalStateException("idempotent-enqueue.lua is missing beside " + IdempotentEnqueueScript.class.getName());
            }
            StringBuilder code = new StringBuilder();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n", -1)) {
                if (!line.stripLeading().startsWith("--")) {
                    code.append(line).append('\n');
                }
            }
            return code.substring(0, code.length() - 1); // split kept the text after the last newline: ""

        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
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
