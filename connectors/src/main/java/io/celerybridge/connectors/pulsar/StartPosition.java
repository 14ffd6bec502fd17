package io.celerybridge.connectors.pulsar;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Objects;

/**
 * Where a job without a checkpoint starts reading. A restore from a checkpoint or savepoint always
 * continues from the checkpointed positions instead.
 *
 * <ul>
 *   <li>{@code subscription}: the subscription's own cursor (created at the earliest message if the
 *       subscription is new): what a restarted job without state wants;
 *   <li>{@code earliest}: starts there, whatever the subscription had consumed;
 *   <li>{@code latest}: starts at what is published from the moment the job is built on (a
 *       publish-time cursor at that instant): the connector seeks every partition it discovers
 *       LATER to its start cursor too, and a plain latest cursor would skip what such a partition
 *       received before it was discovered;
 *   <li>{@code publish-time:<ISO-8601 instant>}: starts at the first message published at or
 *       after that instant.
 * </ul>
 */
@PublicEvolving
public final class StartPosition implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The kinds of start position. */
    public enum Kind { SUBSCRIPTION, EARLIEST, LATEST, PUBLISH_TIME }

    private final Kind kind;
    private final Instant publishTime;

    private StartPosition(Kind kind, Instant publishTime) {
        this.kind = kind;
        this.publishTime = publishTime;
    }

    public static StartPosition subscription() {
        return new StartPosition(Kind.SUBSCRIPTION, null);
    }

    public static StartPosition earliest() {
        return new StartPosition(Kind.EARLIEST, null);
    }

    public static StartPosition latest() {
        return new StartPosition(Kind.LATEST, null);
    }

    public static StartPosition publishTime(Instant t) {
        return new StartPosition(Kind.PUBLISH_TIME, Objects.requireNonNull(t, "publishTime"));
    }

    /**
     * Parses {@code subscription}, {@code earliest}, {@code latest} or {@code publish-time:<instant>}.
     *
     * @throws IllegalArgumentException naming the value and what is expected
     */
    public static StartPosition parse(String text) {
        String t = text == null ? "" : text.trim();
        switch (t) {
            case "subscription":
                return subscription();
            case "earliest":
                return earliest();
            case "latest":
                return latest();
            default:
                if (t.startsWith("publish-time:")) {
                    try {
                        return publishTime(Instant.parse(t.substring("publish-time:".length())));
                    } catch (DateTimeParseException e) {
                        throw new IllegalArgumentException("start position '" + text
                                + "': the time must be an ISO-8601 instant such as 2026-11-28T00:00:00Z");
                    }
                }
                throw new IllegalArgumentException("start position '" + text
                        + "' is not one of: subscription, earliest, latest, publish-time:<ISO-8601 instant>");
        }
    }

    public Kind kind() {
        return kind;
    }

    public Instant publishTime() {
        return publishTime;
    }

    @Override
    public String toString() {
        return kind == Kind.PUBLISH_TIME ? "publish-time:" + publishTime : kind.name().toLowerCase();
    }
}
