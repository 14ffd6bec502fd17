package io.celerybridge.udfs;

import io.celerybridge.udfs.builtin.RoutingUdf;
import io.celerybridge.udfs.runtime.BatchUdfOperator;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class DeadLetterReasonTest {

    @Test
    void readmesTableOfReasonsMatchesTheEnum() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        String begin = "<!-- dlq-reasons:begin";
        String end = "<!-- dlq-reasons:end -->\n";
        assertThat(readme).contains(begin, end);
        String table = readme.substring(readme.indexOf(begin), readme.indexOf(end) + end.length());
        assertThat(table).as("README's table of DLQ reasons is out of date: regenerate it with DeadLetterReason.main")
                .isEqualTo(DeadLetterReason.markdownTable());
    }

    @Test
    void theStagesReasonsAreTheEnums() {
        assertThat(DeadLetterReason.valueOf(RoutingUdf.SCHEMA_VIOLATION).stage()).isEqualTo(DeadLetterReason.Stage.PROCESS);
        assertThat(DeadLetterReason.valueOf(BatchUdfOperator.RETRIES_EXHAUSTED).stage()).isEqualTo(DeadLetterReason.Stage.PROCESS);
        for (DeadLetterReason r : DeadLetterReason.values()) {
            assertThat(r.description()).as("description of %s", r).endsWith(".").doesNotContain("|").doesNotContain("\n");
        }
    }
}
