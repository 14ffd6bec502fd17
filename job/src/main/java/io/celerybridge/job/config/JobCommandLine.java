package io.celerybridge.job.config;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The job's command line: {@code [--config FILE] [--set key=value]... [--print-config] [--help]}.
 * Without {@code --config}, {@value #DEFAULT_CONFIG} is read if it exists (else the defaults).
 */
public final class JobCommandLine {

    public static final String DEFAULT_CONFIG = "conf/celery-bridge.yaml";

    private JobCommandLine() {}

    /** The configuration to run with, or null when the command only printed something. */
    public static BridgeConfig parse(String[] args, Map<String, String> env, PrintStream out) {
        Path file = null;
        boolean explicit = false;
        boolean print = false;
        List<String> sets = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--config":
                    file = Path.of(value(args, ++i, "--config"));
                    explicit = true;
                    break;
                case "--set":
                    sets.add(value(args, ++i, "--set"));
                    break;
                case "--print-config":
                    print = true;
                    break;
                case "--help":
                case "-h":
                    out.println("usage: [--config FILE] [--set key=value]... [--print-config]\n"
                            + "  environment overrides: " + BridgeConfig.ENV_PREFIX + "SECTION__KEY=value "
                            + "(e.g. CELERY_BRIDGE__PULSAR__SERVICE_URL)\n  keys: see the README's configuration reference");
                    return null;
                default:
                    throw new ConfigException("unknown argument '" + args[i] + "'; expected --config FILE, --set key=value, "
                            + "--print-config or --help");
            }
        }
        if (file == null && Files.isRegularFile(Path.of(DEFAULT_CONFIG))) {
            file = Path.of(DEFAULT_CONFIG);
        }
        if (explicit && !Files.isRegularFile(file)) {
            throw new ConfigException("--config " + file + ": no such file");
        }
        BridgeConfig config = BridgeConfig.load(file, sets, env);
        if (print) {
            out.print(config.print());
            return null;
        }
        return config;
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new ConfigException(flag + " needs a value");
        }
        return args[i];
    }
}
