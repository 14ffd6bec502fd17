package io.celerybridge.job.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BridgeConfigTest {

    @TempDir
    Path dir;

    @Test
    void theShippedConfigLoadsAndOverridesApplyInOrder() {
        BridgeConfig c = BridgeConfig.load(shipped(), List.of("channel=from-set"),
                Map.of("CELERY_BRIDGE__CHANNEL", "from-env", "CELERY_BRIDGE__PULSAR__SUBSCRIPTION", "sub-env", "PATH", "/bin"));
        assertThat(c.get(BridgeOptions.CHANNEL)).isEqualTo("from-set");
        assertThat(c.get(BridgeOptions.PULSAR_SUBSCRIPTION)).isEqualTo("sub-env");
        assertThat(c.get(BridgeOptions.CACHE_TTL)).isEqualTo(Duration.ofHours(24));
        // Flink's settings are left to Flink unless set explicitly (README "Parallelism and Flink settings").
        assertThat(c.get(BridgeOptions.CHECKPOINT_INTERVAL)).isNull();
        assertThat(c.get(BridgeOptions.RESTART_STRATEGY)).isNull();
        assertThat(c.get(BridgeOptions.PARALLELISM_MAX)).isZero();
        assertThat(c.dlqTopic()).isEqualTo("persistent://public/default/celery-bridge-events-dlq");
    }

    @Test
    void unknownKeysAreErrorsNamingTheKey() throws Exception {
        assertError("pulsar:\n  servce_url: pulsar://x:6650\n", "unknown config key 'pulsar.servce_url'", "pulsar.service_url");
        assertError("chanel: events\n", "unknown config key 'chanel'");
        assertThatThrownBy(() -> BridgeConfig.load(null, List.of("celery.taks=x"), Map.of()))
                .hasMessageContaining("unknown config key 'celery.taks'").hasMessageContaining("--set");
        assertThatThrownBy(() -> BridgeConfig.load(null, List.of(), Map.of("CELERY_BRIDGE__VALKEY__URL", "x")))
                .hasMessageContaining("unknown config key 'valkey.url'").hasMessageContaining("CELERY_BRIDGE__VALKEY__URL");
    }

    @Test
    void flinksOwnParallelismKeyIsRefusedWithTheFlinkWayToSetIt() throws Exception {
        assertError("parallelism:\n  default: 2\n", "config key 'parallelism.default'", "no longer a job setting", "flink run -p N");
        assertThatThrownBy(() -> BridgeConfig.load(null, List.of(), Map.of("CELERY_BRIDGE__PARALLELISM__DEFAULT", "2")))
                .hasMessageContaining("CELERY_BRIDGE__PARALLELISM__DEFAULT").hasMessageContaining("-Dparallelism.default=N");
    }

    @Test
    void wrongTypesAndRangesNameKeyValueAndExpectation() throws Exception {
        assertError("cache_ttl: 10 minutes\n", "'cache_ttl'", "'10 minutes'", "duration");
        assertError("cache_ttl: 0s\n", "'cache_ttl'", "'0s'", "1s..30d");
        assertError("celery:\n  messages_per_script: 5000\n", "'celery.messages_per_script'", "'5000'", "1..1000");
        assertError("dedup:\n  capacity: many\n", "'dedup.capacity'", "'many'", "integer");
        assertError("pulsar:\n  tls_allow_insecure: yes please\n", "'pulsar.tls_allow_insecure'", "true or false");
        assertError("pulsar:\n  start_position: yesterday\n", "'pulsar.start_position'", "'yesterday'", "publish-time");
        assertError("checkpointing:\n  mode: sometimes\n", "'checkpointing.mode'", "exactly_once, at_least_once");
        assertError("events:\n  id_pointer: id\n", "'events.id_pointer'", "JSON pointer");
        assertError("restart:\n  delay: 10s\n  max_delay: 1s\n", "'restart.max_delay'", "at least restart.delay");
        assertError("pulsar: 3\n", "'pulsar'");
        assertError("topic: \"\"\n", "'topic'", "'pulsar.topic_pattern'");
    }

    @Test
    void processingStageSettingsAreCheckedAtStartUp() throws Exception {
        assertError("batch_size: 0\n", "'batch_size'", "'0'", "1..100000");
        assertError("backoff: soon\n", "'backoff'", "'soon'", "duration");
        assertError("max_retries: 1\ncircuit:\n  failure_threshold: 5\n", "'circuit.failure_threshold'", "'5'", "at most max_retries + 1 (2)");
        assertError("udf:\n  class: com.example.Mine\n  routing:\n    routes: {a: {task: t}}\n", "'udf.schema', 'udf.routing' and 'udf.batch_task'", "udf.class");
        assertError("udf:\n  schema: [a, b]\n", "'udf.schema'", "mapping");
        assertThatThrownBy(() -> io.celerybridge.job.internal.UdfFactory.udf(
                BridgeConfig.load(null, List.of("udf.class=com.example.Missing"), Map.of())))
                .hasMessageContaining("config key 'udf.class': value 'com.example.Missing' is invalid; expected a class implementing "
                        + "io.celerybridge.udfs.BatchUdf").hasMessageContaining("ClassNotFoundException");
        assertThatThrownBy(() -> io.celerybridge.job.internal.UdfFactory.udf(
                BridgeConfig.load(null, List.of("udf.class=java.lang.String"), Map.of())))
                .hasMessageContaining("it does not implement BatchUdf");
        assertThatThrownBy(() -> io.celerybridge.job.internal.UdfFactory.udf(BridgeConfig.load(null, List.of(),
                Map.of("CELERY_BRIDGE__UDF__ROUTING", "{\"routes\": {\"order.created\": {\"task\": \"t\", \"priority\": 300}}}"))))
                .hasMessage("config key udf.routing.routes.order.created.priority: expected an integer from 0 to 9, got 300");
    }

    @Test
    void mappingsComeFromYamlOrJsonText() throws Exception {
        Path f = dir.resolve("m.yaml");
        Files.writeString(f, "udf:\n  routing:\n    type_pointer: /kind\n    routes:\n      a: {task: x.a, queue: qa}\n"
                + "  params:\n    endpoint: http://scorer\n    limits: {per_call: 10}\n");
        BridgeConfig c = BridgeConfig.load(f, List.of(), Map.of());
        assertThat(c.get(BridgeOptions.UDF_ROUTING)).isEqualTo("{\"type_pointer\":\"/kind\",\"routes\":{\"a\":{\"task\":\"x.a\",\"queue\":\"qa\"}}}");
        assertThat(c.flatMapping(BridgeOptions.UDF_PARAMS)).containsExactly(
                Map.entry("endpoint", "http://scorer"), Map.entry("limits.per_call", "10"));
        BridgeConfig fromSet = BridgeConfig.load(null, List.of("udf.schema={\"required\": [\"id\"]}"), Map.of());
        assertThat(fromSet.get(BridgeOptions.UDF_SCHEMA)).isEqualTo("{\"required\":[\"id\"]}");
    }

    @Test
    void printedConfigMasksSecrets() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BridgeConfig c = JobCommandLine.parse(new String[] {"--set", "pulsar.auth_token=eyJhbGciOi.secret.token",
                "--set", "valkey.uri=redis://bridge:hunter2@valkey:6379/0", "--set", "valkey.password=pw-123", "--print-config"},
                Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8));
        assertThat(c).isNull();
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(printed).contains("pulsar.auth_token: ****", "valkey.uri: redis://bridge:****@valkey:6379/0",
                "valkey.password: ****", "channel: celery");
        assertThat(printed).doesNotContain("eyJhbGciOi", "hunter2", "pw-123");
    }

    @Test
    void everyUriFormLettuceAcceptsIsMasked() {
        // lettuce reads a lone user-info as the password; passwords may hold '/' and '@'.
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("redis://hunter2@valkey:6379/0", "redis://****@valkey:6379/0");
        cases.put("redis://bridge:hunter2@valkey:6379/0", "redis://bridge:****@valkey:6379/0");
        cases.put("rediss://:hunter2@valkey:6380/1", "rediss://:****@valkey:6380/1");
        cases.put("redis://bridge:hun/ter2@valkey:6379/0", "redis://bridge:****@valkey:6379/0");
        cases.put("redis://bridge:hun@ter/2@valkey:6379/0", "redis://bridge:****@valkey:6379/0");
        cases.put("redis-sentinel://hunter2@s1:26379,s2:26379/0#mymaster", "redis-sentinel://****@s1:26379,s2:26379/0#mymaster");
        cases.put("redis://valkey:6379/0", "redis://valkey:6379/0");
        // With the password given apart, a lone user-info is the ACL user, shown as it is.
        ByteArrayOutputStream withPassword = new ByteArrayOutputStream();
        JobCommandLine.parse(new String[] {"--set", "valkey.uri=redis://bridge@valkey:6379/0", "--set", "valkey.password=hunter2",
                "--print-config"}, Map.of(), new PrintStream(withPassword, true, StandardCharsets.UTF_8));
        assertThat(withPassword.toString(StandardCharsets.UTF_8)).contains("valkey.uri: redis://bridge@valkey:6379/0")
                .doesNotContain("hunter2");
        cases.forEach((uri, masked) -> {
            assertThat(BridgeConfig.maskUriPassword(uri)).as(uri).isEqualTo(masked);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            JobCommandLine.parse(new String[] {"--set", "valkey.uri=" + uri, "--print-config"}, Map.of(),
                    new PrintStream(out, true, StandardCharsets.UTF_8));
            assertThat(out.toString(StandardCharsets.UTF_8)).as(uri).contains("valkey.uri: " + masked).doesNotContain("hunter2", "hun/ter2", "hun@ter");
        });
    }

    @Test
    void secretsFromFiles() throws Exception {
        Path token = dir.resolve("token");
        Files.writeString(token, "file-token\n");
        BridgeConfig c = BridgeConfig.load(null, List.of("pulsar.auth_token_file=" + token), Map.of());
        assertThat(c.secret(BridgeOptions.PULSAR_AUTH_TOKEN, BridgeOptions.PULSAR_AUTH_TOKEN_FILE)).isEqualTo("file-token");
        assertThatThrownBy(() -> BridgeConfig.load(null, List.of("valkey.password_file=/nonexistent"), Map.of())
                .secret(BridgeOptions.VALKEY_PASSWORD, BridgeOptions.VALKEY_PASSWORD_FILE))
                .hasMessageContaining("'valkey.password_file'").hasMessageContaining("/nonexistent");
    }

    @Test
    void commandLineIsStrictToo() {
        PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertThatThrownBy(() -> JobCommandLine.parse(new String[] {"--topic", "x"}, Map.of(), out))
                .hasMessageContaining("unknown argument '--topic'");
        assertThatThrownBy(() -> JobCommandLine.parse(new String[] {"--config", "/nope.yaml"}, Map.of(), out))
                .hasMessageContaining("/nope.yaml");
        assertThatThrownBy(() -> JobCommandLine.parse(new String[] {"--set", "channel"}, Map.of(), out))
                .hasMessageContaining("expected key=value");
    }

    @Test
    void readmeConfigReferenceMatchesTheCode() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int begin = readme.indexOf(ConfigReference.BEGIN);
        int end = readme.indexOf(ConfigReference.END);
        assertThat(begin).as("README has the generated config reference").isNotNegative();
        assertThat(readme.substring(begin, end + ConfigReference.END.length()))
                .as("README's config reference is out of date: regenerate it with ConfigReference.main")
                .isEqualTo(ConfigReference.markdown());
    }

    private void assertError(String yaml, String... fragments) throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, yaml);
        assertThatThrownBy(() -> BridgeConfig.load(f, List.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> {
                    for (String fragment : fragments) {
                        assertThat(e.getMessage()).contains(fragment);
                    }
                });
    }

    private static Path shipped() {
        return Path.of("..", "conf", "celery-bridge.yaml");
    }
}
