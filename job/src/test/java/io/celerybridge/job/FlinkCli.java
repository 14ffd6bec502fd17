package io.celerybridge.job;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.fail;

/**
 * The Flink CLI as bin/flink runs it: {@code CliFrontend} in its own JVM with {@code
 * FLINK_CONF_DIR} pointing at the cluster's configuration (dev/flink-cluster.sh), on the
 * cluster's classpath, with Flink's Java 17 options from that configuration.
 */
final class FlinkCli {

    static final String CONF_DIR_ENV = "CELERY_BRIDGE_FLINK_CONF_DIR";
    static final String CLASSPATH_ENV = "CELERY_BRIDGE_FLINK_CLASSPATH_FILE";

    private final Path confDir = Path.of(required(CONF_DIR_ENV));
    private final String classpath;

    FlinkCli() throws IOException {
        classpath = Files.readString(Path.of(required(CLASSPATH_ENV))).trim();
    }

    private static String required(String env) {
        String v = System.getenv(env);
        if (v == null || v.isBlank()) {
            fail(env + " is not set: this test runs `flink run` against the cluster of dev/flink-cluster.sh; "
                    + "start it, then `dev/stack.sh up` writes " + env + " to .dev/env");
        }
        return v;
    }

    /** Runs {@code flink ARGS} with extra environment variables; fails with its output unless it exits 0. */
    String run(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String line : Files.readAllLines(confDir.resolve("config.yaml"))) {
            if (line.startsWith("env.java.opts.all:")) {
                cmd.addAll(Arrays.asList(line.substring("env.java.opts.all:".length()).trim().split("\\s+")));
            }
        }
        cmd.addAll(List.of("-cp", classpath, "org.apache.flink.client.cli.CliFrontend"));
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("FLINK_CONF_DIR", confDir.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("flink " + String.join(" ", args) + " did not finish in 180 s");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            fail("flink " + String.join(" ", args) + " exited " + p.exitValue() + ":\n" + out);
        }
        return out;
    }

    /** The job id `flink run -d` printed. */
    static String submittedJob(String out) {
        return find(out, "Job has been submitted with JobID ([0-9a-f]{32})", "a submitted job id");
    }

    /** The savepoint path `flink stop` printed. */
    static String savepointPath(String out) {
        return find(out, "Savepoint completed\\. Path: (\\S+)", "a savepoint path");
    }

    private static String find(String out, String regex, String what) {
        Matcher m = Pattern.compile(regex).matcher(out);
        if (!m.find()) {
            fail("no " + what + " in the CLI's output:\n" + out);
        }
        return m.group(1);
    }
}
