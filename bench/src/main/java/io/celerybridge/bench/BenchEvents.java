package io.celerybridge.bench;

import java.nio.charset.StandardCharsets;

/**
 * The benchmark's events: JSON of a fixed size (1 KB by default) with an id, the publish time in
 * epoch microseconds ({@code ts}, what the latency probe reads back from the task) and filler.
 * With a duplicate share d, every round(1/d)-th message repeats an id published about 1,000
 * messages earlier, so the repeat is not still in the job's near cache.
 */
final class BenchEvents {

    private static final int REPEAT_DISTANCE = 1_000;

    private static final String FILLER = "abcdefghijklmnopqrstuvwxyz".repeat(1_000);

    private final String prefix;
    private final int size;
    private final int repeatEvery;
    private long unique;
    private long published;

    BenchEvents(String prefix, int size, double duplicateShare) {
        if (duplicateShare < 0 || duplicateShare >= 0.5) {
            throw new IllegalArgumentException("duplicate share must be in [0, 0.5), got " + duplicateShare);
        }
        this.prefix = prefix;
        this.size = size;
        this.repeatEvery = duplicateShare == 0 ? 0 : (int) Math.round(1 / duplicateShare);
    }

    /** The next message: a new id, or a repeat of an earlier one. */
    byte[] next() {
        published++;
        long id;
        if (repeatEvery > 0 && published % repeatEvery == 0 && unique > 0) {
            id = Math.max(1, unique - REPEAT_DISTANCE);
        } else {
            id = ++unique;
        }
        return json(prefix + "-" + id, epochMicros());
    }

    long unique() {
        return unique;
    }

    long published() {
        return published;
    }

    private byte[] json(String id, long ts) {
        StringBuilder b = new StringBuilder(size + 16)
                .append("{\"id\":\"").append(id).append("\",\"type\":\"bench\",\"ts\":").append(ts).append(",\"data\":\"");
        b.append(FILLER, 0, Math.max(0, size - b.length() - 2));
        return b.append("\"}").toString().getBytes(StandardCharsets.UTF_8);
    }

    static long epochMicros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }
}
