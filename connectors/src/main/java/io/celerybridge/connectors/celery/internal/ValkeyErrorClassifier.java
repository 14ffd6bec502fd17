package io.celerybridge.connectors.celery.internal;

import org.apache.flink.annotation.Internal;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Decides which Valkey errors the sink retries (with backoff, holding its entries) and which fail
 * the job. An outage is never the events' fault: connection loss, timeouts, a loading or
 * read-only server (failover), OOM and a busy script are retried. Wrong credentials, missing
 * permissions and a key of the wrong type will not mend by waiting: they fail the job, naming
 * the cause.
 */
@Internal
public final class ValkeyErrorClassifier {

    /** A named rule: a server error prefix and what it means for the operator. */
    private static final class Fatal {
        final String prefix;
        final String meaning;

        Fatal(String prefix, String meaning) {
            this.prefix = prefix;
            this.meaning = meaning;
        }
    }

    private static final List<Fatal> FATAL_REPLIES = List.of(
            new Fatal("NOAUTH", "Valkey requires authentication: set username and password in the Valkey URI"),
            new Fatal("WRONGPASS", "Valkey refused the credentials in the Valkey URI"),
            new Fatal("NOPERM", "the Valkey ACL user lacks a permission the job needs (GET, PTTL, EVAL, EVALSHA, SCRIPT LOAD, SET, LPUSH, LLEN)"),
            new Fatal("WRONGTYPE", "a dedup key or queue key holds another type: another application uses the same key names"),
            new Fatal("ERR unknown command", "the server does not support a command the sink needs"),
            new Fatal("ERR Error running script", "the enqueue script failed on the server"),
            new Fatal("CROSSSLOT", "the broker is a Redis/Valkey Cluster; kombu and the atomic enqueue need one primary"),
            new Fatal("MOVED", "the broker is a Redis/Valkey Cluster; kombu and the atomic enqueue need one primary"));

    private static final List<String> TRANSIENT_REPLIES =
            List.of("LOADING", "READONLY", "BUSY", "OOM", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN", "NOSCRIPT");

    private ValkeyErrorClassifier() {}

    /** Returns why the error is fatal, or empty if retrying it is right. */
    public static Optional<String> fatalReason(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof RedisCommandExecutionException) {
                String msg = String.valueOf(t.getMessage());
                for (String p : TRANSIENT_REPLIES) {
                    if (msg.startsWith(p)) {
                        return Optional.empty();
                    }
                }
                for (Fatal f : FATAL_REPLIES) {
                    if (msg.startsWith(f.prefix)) {
                        return Optional.of(f.meaning + " (" + f.prefix + ")");
                    }
                }
                return Optional.of("Valkey rejected the enqueue: " + firstLine(msg));
            }
            if (t instanceof RedisConnectionException || t instanceof RedisCommandTimeoutException
                    || t instanceof IOException || t instanceof java.util.concurrent.TimeoutException) {
                return Optional.empty();
            }
        }
        if (error instanceof RedisException) {
            return Optional.empty(); // e.g. "Connection closed", "Connection is closed"
        }
        return Optional.of("unexpected error while enqueueing: " + error);
    }

    /** True if the server must (re)load the script before EVALSHA works. */
    public static boolean isNoScript(Throwable error) {
        return hasReply(error, "NOSCRIPT");
    }

    /** True for a READONLY reply: the connection reaches a replica, not the primary. */
    public static boolean isReadOnly(Throwable error) {
        return hasReply(error, "READONLY");
    }

    private static boolean hasReply(Throwable error, String prefix) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof RedisCommandExecutionException && String.valueOf(t.getMessage()).startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
