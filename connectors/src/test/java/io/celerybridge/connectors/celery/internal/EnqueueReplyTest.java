package io.celerybridge.connectors.celery.internal;

import io.celerybridge.connectors.celery.internal.IdempotentEnqueueScript.Outcome;
import io.celerybridge.connectors.celery.internal.IdempotentEnqueueScript.Reply;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EnqueueReplyTest {

    private static final List<String> QUEUES = List.of("celery", "orders");

    /**
     * Admins may preload the script for an ACL user without SCRIPT LOAD, by its SHA-1: a change of
     * its code changes that, and must be said in the release notes. Comments do not count.
     */
    @Test
    void theScriptsShaIsTheReleasedOne() {
        assertThat(IdempotentEnqueueScript.SHA1).isEqualTo("f6d913289abf4e59de9fe8addb4c6a597796a49f");
        assertThat(IdempotentEnqueueScript.SOURCE).startsWith("#!lua\n").doesNotContain("--");
    }

    @Test
    void aFullQueueNamesTheQueue() {
        assertThat(Reply.parse("F1", QUEUES, 3).fullQueue()).isEqualTo("orders");
    }

    @Test
    void oneOutcomePerMessageAndAMaskPerConflict() {
        Reply r = Reply.parse("1C0C|010,11", QUEUES, 4);
        assertThat(r.fullQueue()).isNull();
        assertThat(List.of(r.outcome(0), r.outcome(1), r.outcome(2), r.outcome(3)))
                .containsExactly(Outcome.ENQUEUED, Outcome.CONFLICT, Outcome.DUPLICATE, Outcome.CONFLICT);
        assertThat(r.enqueuedMembers(1)).isEqualTo("010");
        assertThat(r.enqueuedMembers(3)).isEqualTo("11");
    }

    @Test
    void anUnexpectedReplyIsRefusedWithTheReplyQuoted() {
        assertThatThrownBy(() -> Reply.parse("11", QUEUES, 3)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'11'").hasMessageContaining("2 flags for 3 messages");
        assertThatThrownBy(() -> Reply.parse("1X", QUEUES, 2)).hasMessageContaining("flag 'X'");
        assertThatThrownBy(() -> Reply.parse("C1", QUEUES, 2)).hasMessageContaining("'C1'");
        assertThatThrownBy(() -> Reply.parse("OK", QUEUES, 1)).hasMessageContaining("'OK'");
    }
}
