package io.celerybridge.job;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The reliability tests' own report: one Markdown table per test in {@code job/target/reliability/},
 * with what went in and what came out (tasks, dead letters, lost, duplicated). Copied to
 * docs/reliability.md from a CI run.
 */
final class ReliabilityReport {

    private final String title;
    private final List<String> rows = new ArrayList<>();

    ReliabilityReport(String title) {
        this.title = title;
    }

    ReliabilityReport row(String scenario, String reason, long in, long tasks, long deadLetters, long lost, long duplicated) {
        rows.add("| " + scenario + " | " + reason + " | " + in + " | " + tasks + " | " + deadLetters + " | " + lost + " | " + duplicated + " |");
        return this;
    }

    void write(String file) throws IOException {
        Path dir = Path.of("target", "reliability");
        Files.createDirectories(dir);
        StringBuilder sb = new StringBuilder("### ").append(title).append("\n\n")
                .append("| input / fault | expected reason | events in | tasks | DLQ records | lost | duplicated |\n")
                .append("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
        rows.forEach(r -> sb.append(r).append('\n'));
        Files.writeString(dir.resolve(file), sb.toString(), StandardCharsets.UTF_8);
    }
}
