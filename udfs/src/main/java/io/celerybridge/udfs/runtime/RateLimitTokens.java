package io.celerybridge.udfs.runtime;

import org.apache.flink.annotation.Internal;

/** The tokens a subtask's bucket for one task name held at a wall-clock time. Kept in operator state. A Flink POJO. */
@Internal
public class RateLimitTokens {

    private String taskName;
    private double tokens;
    private long atMillis;

    public RateLimitTokens() {}

    RateLimitTokens(String taskName, double tokens, long atMillis) {
        this.taskName = taskName;
        this.tokens = tokens;
        this.atMillis = atMillis;
    }

    public String getTaskName() {
        return taskName;
    }

    public void setTaskName(String taskName) {
        this.taskName = taskName;
    }

    /** Tokens left (negative: debt already waited for). */
    public double getTokens() {
        return tokens;
    }

    public void setTokens(double tokens) {
        this.tokens = tokens;
    }

    /** Epoch ms at which the bucket held them. */
    public long getAtMillis() {
        return atMillis;
    }

    public void setAtMillis(long atMillis) {
        this.atMillis = atMillis;
    }
}
