package io.celerybridge.job.config;

import io.celerybridge.connectors.pulsar.StartPosition;

import java.time.Duration;
import java.util.List;

/**
 * Every configuration key the job reads. The README's configuration reference is generated
 * from this list ({@link ConfigReference}); a test fails when the two drift.
 */
public final class BridgeOptions {

    private BridgeOptions() {}

    private static final Duration MS = Duration.ofMillis(1);
    private static final Duration SECOND = Duration.ofSeconds(1);
    private static final Duration DAY = Duration.ofDays(1);

    // ---------------------------------------------------------------- the task config
    public static final Option<List<String>> TOPIC = Option.list("topic", "persistent://public/default/celery-bridge-events",
            "Pulsar topic(s) to read, comma-separated (or set pulsar.topic_pattern instead).");
    public static final Option<String> DLQ_TOPIC = Option.string("dlq_topic", "",
            "Dead-letter topic; empty means the first topic with -dlq appended.");
    public static final Option<String> DLQ_SUBSCRIPTION = Option.nonEmpty("dlq_subscription", "celery-bridge-dlq",
            "Durable subscription the job creates on the DLQ topic at start-up, so a stock broker keeps every record "
                    + "until the replay tool acknowledges it there.");
    public static final Option<String> CHANNEL = Option.nonEmpty("channel", "celery", "The Celery queue tasks are sent to.");
    public static final Option<Duration> CACHE_TTL = Option.duration("cache_ttl", "24h", SECOND, Duration.ofDays(30),
            "How long an enqueued event id is remembered: a repeat within it never yields a second task.");

    public static final Option<Integer> BATCH_SIZE = Option.integer("batch_size", 100, 1, 100_000,
            "Events per UDF call; a batch also goes when its oldest event has waited udf.max_linger.");
    public static final Option<Integer> MAX_RETRIES = Option.integer("max_retries", 5, 0, 1000,
            "Retries of an event after transient UDF failures; then it is dead-lettered (RETRIES_EXHAUSTED).");
    public static final Option<Duration> BACKOFF = Option.duration("backoff", "200ms", MS, Duration.ofHours(1),
            "First retry delay; doubles per attempt up to udf.max_backoff, with jitter.");
    public static final Option<Duration> TASK_TIMEOUT = Option.duration("task_timeout", "30s", MS, Duration.ofHours(1),
            "Longest one UDF call may take; then it is interrupted, abandoned and retried as a transient failure.");
    public static final Option<Long> RATE_LIMIT = Option.longValue("rate_limit", 0, 0, Long.MAX_VALUE,
            "Most tasks per task name per rate_window, job-wide (each UDF subtask gets an equal share); 0 = no limit. Throttles, never drops.");
    public static final Option<Duration> RATE_WINDOW = Option.duration("rate_window", "1s", MS, DAY, "The window of rate_limit.");

    // ---------------------------------------------------------------- processing (UDF)
    public static final Option<String> UDF_CLASS = Option.string("udf.class", "",
            "A BatchUdf implementation (public no-argument constructor); empty = the built-in routing UDF.");
    public static final Option<String> UDF_PARAMS = Option.mapping("udf.params", "Settings handed to udf.class (UdfContext.params()).");
    public static final Option<String> UDF_SCHEMA = Option.mapping("udf.schema",
            "Built-in UDF: payload validation (required, fields with type, min, max, min_length, max_length, enum); see README.");
    public static final Option<String> UDF_ROUTING = Option.mapping("udf.routing",
            "Built-in UDF: type_pointer and routes by event type to task, queue, priority, args, kwargs, countdown, eta_pointer, expires; see README. Empty = every event to celery.task on channel.");
    public static final Option<String> UDF_BATCH_TASK = Option.string("udf.batch_task", "",
            "Built-in UDF, per-batch mode: each batch's valid events become ONE task <batch_task>(events=[payload, ...]) on channel; empty = one task per event.");
    public static final Option<Duration> UDF_MAX_LINGER = Option.duration("udf.max_linger", "50ms", Duration.ZERO, Duration.ofMinutes(10),
            "Longest an event waits for its batch to fill.");
    public static final Option<Duration> UDF_MAX_BACKOFF = Option.duration("udf.max_backoff", "30s", MS, Duration.ofHours(1),
            "Longest retry delay.");
    public static final Option<Integer> CIRCUIT_FAILURE_THRESHOLD = Option.integer("circuit.failure_threshold", 5, 1, 1000,
            "Consecutive failed UDF calls that open the circuit (at most max_retries + 1).");
    public static final Option<Duration> CIRCUIT_OPEN_FOR = Option.duration("circuit.open_for", "10s", MS, Duration.ofHours(1),
            "How long an open circuit stops calls before one probe call is let through.");
    public static final Option<String> UDF_FANOUT_TOPIC = Option.string("udf.fanout_topic", "",
            "Also publish each processed event (payload, key = event id) to this Pulsar topic; empty = off.");
    public static final Option<String> UDF_FANOUT_SUBSCRIPTION = Option.nonEmpty("udf.fanout_subscription", "celery-bridge-fanout",
            "Durable subscription the job creates on udf.fanout_topic so a stock broker keeps what it publishes; "
                    + "name your consumer's subscription here to read it.");

    // ---------------------------------------------------------------- pulsar
    public static final Option<String> PULSAR_SERVICE_URL = Option.nonEmpty("pulsar.service_url", "pulsar://127.0.0.1:6650",
            "Broker URL (pulsar:// or pulsar+ssl://).");
    public static final Option<String> PULSAR_ADMIN_URL = Option.nonEmpty("pulsar.admin_url", "http://127.0.0.1:8080",
            "Admin API URL (http:// or https://).");
    public static final Option<String> PULSAR_SUBSCRIPTION = Option.nonEmpty("pulsar.subscription", "celery-bridge",
            "Subscription name of the source.");
    public static final Option<String> PULSAR_TOPIC_PATTERN = Option.string("pulsar.topic_pattern", "",
            "Regular expression over full topic names; when set, 'topic' is ignored.");
    public static final Option<StartPosition> PULSAR_START_POSITION = Option.custom("pulsar.start_position",
            "subscription | earliest | latest | publish-time:<ISO-8601>", "subscription",
            "Where a job without a checkpoint starts; a restore always continues from its checkpoint.", StartPosition::parse);
    public static final Option<String> PULSAR_AUTH_TOKEN = Option.secret("pulsar.auth_token",
            "JWT for token authentication (secret; prefer pulsar.auth_token_file or the environment).");
    public static final Option<String> PULSAR_AUTH_TOKEN_FILE = Option.string("pulsar.auth_token_file", "",
            "File holding the JWT; used when pulsar.auth_token is empty.");
    public static final Option<String> PULSAR_TLS_TRUST_CERTS_FILE = Option.string("pulsar.tls_trust_certs_file", "",
            "PEM file of the CA certificates to trust.");
    public static final Option<Boolean> PULSAR_TLS_ALLOW_INSECURE = Option.bool("pulsar.tls_allow_insecure", false,
            "Accept untrusted broker certificates (testing only).");
    public static final Option<Boolean> PULSAR_TLS_HOSTNAME_VERIFICATION = Option.bool("pulsar.tls_hostname_verification", true,
            "Check that the broker's certificate names the host connected to (the Pulsar client's own default is off).");
    public static final Option<Duration> PULSAR_PARTITION_DISCOVERY_INTERVAL = Option.duration(
            "pulsar.partition_discovery_interval", "30s", Duration.ZERO, DAY, "How often new partitions are looked for; 0s turns it off.");

    public static final Option<Duration> PULSAR_MAX_FETCH_TIME = Option.duration("pulsar.max_fetch_time", "20ms", MS, Duration.ofSeconds(10),
            "Longest the source holds fetched messages before passing them on; the connector's own 10 s "
                    + "made events on a quiet topic wait up to 10 s.");

    // ---------------------------------------------------------------- valkey
    public static final Option<String> VALKEY_URI = Option.nonEmpty("valkey.uri", "redis://127.0.0.1:6379/0",
            "Celery broker: redis:// or rediss:// (TLS), optional user (redis://user@host with valkey.password_file), db index, ?timeout=. A password here is masked when printed.");
    public static final Option<String> VALKEY_PASSWORD = Option.secret("valkey.password",
            "Password (secret); overrides one in the URI. Prefer valkey.password_file or the environment.");
    public static final Option<String> VALKEY_PASSWORD_FILE = Option.string("valkey.password_file", "",
            "File holding the password; used when valkey.password is empty.");

    public static final Option<String> VALKEY_TLS_CA_FILE = Option.string("valkey.tls_ca_file", "",
            "PEM file of the CA certificates to trust for rediss://; empty = the JVM's trust store.");

    public static final Option<Boolean> VALKEY_ALLOW_EVICTION = Option.bool("valkey.allow_eviction", false,
            "Start even if Valkey's maxmemory-policy may evict keys (anything but noeviction): evicted dedup marks let repeats "
            + "through twice, evicted queue lists lose tasks. Off: the job refuses to start on such a server.");

    public static final Option<Integer> VALKEY_WAIT_REPLICAS = Option.integer("valkey.wait_replicas", 0, 0, 100,
            "Replicas that must acknowledge each enqueue call (WAIT) before the checkpoint may cover it, so a failover to one of "
            + "them loses nothing; 0 = no wait. Too few in valkey.wait_timeout: the call is retried, never dead-lettered.");
    public static final Option<Boolean> VALKEY_WAIT_AOF = Option.bool("valkey.wait_aof", false,
            "Also wait until the primary's append-only file (and those of valkey.wait_replicas replicas) fsynced each enqueue "
            + "call (WAITAOF, Valkey 7.2+; needs appendonly yes, on the replicas too: one without an append-only file never "
            + "acknowledges, and the sink holds its tasks), so a crash of Valkey loses nothing whatever appendfsync says.");
    public static final Option<Duration> VALKEY_WAIT_TIMEOUT = Option.duration("valkey.wait_timeout", "1s", MS, Duration.ofMinutes(1),
            "How long one WAIT/WAITAOF waits for its acknowledgements before the call is retried.");

    // ---------------------------------------------------------------- celery
    public static final Option<String> CELERY_TASK = Option.nonEmpty("celery.task", "celery_bridge.process_event",
            "Task each event becomes, <task>(event=<payload>), when udf.routing has no routes.");
    public static final Option<Long> CELERY_MAX_QUEUE_DEPTH = Option.longValue("celery.max_queue_depth", 100_000, 0, Long.MAX_VALUE,
            "At this many tasks in the queue (all priorities) the sink waits; 0 = no limit.");
    public static final Option<String> CELERY_GLOBAL_KEYPREFIX = Option.string("celery.global_keyprefix", "",
            "kombu's global_keyprefix transport option, if the workers use one.");
    public static final Option<Duration> CELERY_VISIBILITY_TIMEOUT = Option.duration("celery.visibility_timeout", "1h", SECOND,
            Duration.ofDays(7), "The broker's visibility_timeout: a task with a later ETA is refused to the DLQ (it would run twice).");
    public static final Option<Long> CELERY_MAX_TASK_BYTES = Option.longValue("celery.max_task_bytes", 4L << 20, 64L << 10, 256L << 20,
            "Largest encoded task (envelope and keys) the sink takes; a larger one is dead-lettered (TASK_TOO_LARGE). "
                    + "Per-batch tasks are split to stay under it.");
    public static final Option<Integer> CELERY_MESSAGES_PER_SCRIPT = Option.integer("celery.messages_per_script", 100, 1, 1000,
            "Tasks carried by one atomic enqueue script call.");
    public static final Option<Integer> CELERY_MAX_BATCH_SIZE = Option.integer("celery.max_batch_size", 1000, 1, 100_000,
            "Tasks per sink batch (one pipeline flush).");
    public static final Option<Integer> CELERY_MAX_IN_FLIGHT = Option.integer("celery.max_in_flight_batches", 8, 1, 1000,
            "Batches in flight per sink subtask.");
    public static final Option<Duration> CELERY_MAX_TIME_IN_BUFFER = Option.duration("celery.max_time_in_buffer", "20ms", MS,
            Duration.ofMinutes(1), "Longest a task waits in the sink buffer before its batch is sent.");

    // ---------------------------------------------------------------- events
    public static final Option<String> EVENTS_ID_POINTER = Option.custom("events.id_pointer", "JSON pointer", "/id",
            "Where the event id is (a string or an integer; 1 and \"1\" are different events); without one, see events.id_fallback.", s -> {
                com.fasterxml.jackson.core.JsonPointer.compile(s);
                return s;
            });
    public static final Option<Integer> EVENTS_MAX_PAYLOAD_BYTES = Option.integer("events.max_payload_bytes", 1 << 20, 2, 64 << 20,
            "Larger payloads go to the DLQ (PAYLOAD_TOO_LARGE).");

    public static final Option<Integer> EVENTS_MAX_NESTING_DEPTH = Option.integer("events.max_nesting_depth", 64, 1, 1000,
            "Deeper payloads go to the DLQ (NESTING_TOO_DEEP): a worker's JSON decoder recurses per level.");
    public static final Option<Boolean> EVENTS_REQUIRE_ID = Option.bool("events.require_id", false,
            "Refuse payloads without an id at events.id_pointer (MISSING_EVENT_ID) instead of using events.id_fallback.");
    public static final Option<String> EVENTS_ID_FALLBACK = Option.oneOf("events.id_fallback", "message_id",
            "The identity of an event without an id: message_id (the Pulsar message's own id; never merges two messages), "
                    + "message_key (only if every key names one event, never an entity), payload_hash (identical payloads are one event).",
            "message_id", "message_key", "payload_hash");

    // ---------------------------------------------------------------- dedup
    public static final Option<Integer> DEDUP_CAPACITY = Option.integer("dedup.capacity", 200, 1, 100_000,
            "Idempotency lookups in flight per subtask (the async I/O capacity).");
    public static final Option<Duration> DEDUP_TIMEOUT = Option.duration("dedup.timeout", "5s", Duration.ofMillis(10), Duration.ofMinutes(10),
            "After this the lookup gives up and passes the event on; the sink's atomic enqueue still deduplicates.");
    public static final Option<Integer> DEDUP_NEAR_CACHE_SIZE = Option.integer("dedup.near_cache_size", 10_000, 0, 10_000_000,
            "Event ids found enqueued, remembered in process (as long as Valkey keeps them) to drop repeats without a round trip; 0 = off.");

    // ---------------------------------------------------------------- flink
    // Empty: Flink's own setting decides (the cluster's config file, -D, flink run -p/-s, REST);
    // a value here overrides it for this job only. README "Parallelism and Flink settings".
    public static final Option<Duration> CHECKPOINT_INTERVAL = Option.duration("checkpointing.interval", "", Duration.ofMillis(10),
            DAY, "How often Flink checkpoints (and the sink flushes); empty: Flink's execution.checkpointing.interval, "
                    + "or 10s when Flink's configuration sets none (the job needs checkpoints).");
    public static final Option<String> CHECKPOINT_MODE = Option.oneOf("checkpointing.mode", "",
            "Flink's checkpointing mode; empty: Flink's execution.checkpointing.mode (exactly_once unless set).",
            "exactly_once", "at_least_once");
    public static final Option<Duration> CHECKPOINT_TIMEOUT = Option.duration("checkpointing.timeout", "", SECOND, DAY,
            "A checkpoint taking longer is abandoned; empty: Flink's execution.checkpointing.timeout (10m unless set).");
    public static final Option<String> RESTART_STRATEGY = Option.oneOf("restart.strategy", "",
            "What Flink does after a failure; empty: Flink's restart-strategy.type (exponential-delay unless set). "
                    + "The three keys below apply only with a strategy set here.",
            "exponential-delay", "fixed-delay", "none");
    public static final Option<Integer> RESTART_ATTEMPTS = Option.integer("restart.attempts", 10, 0, Integer.MAX_VALUE,
            "fixed-delay: restarts before the job fails.");
    public static final Option<Duration> RESTART_DELAY = Option.duration("restart.delay", "1s", MS, Duration.ofHours(1),
            "fixed-delay: the delay; exponential-delay: the first delay.");
    public static final Option<Duration> RESTART_MAX_DELAY = Option.duration("restart.max_delay", "1m", MS, Duration.ofHours(1),
            "exponential-delay: the longest delay.");
    public static final Option<Integer> PARALLELISM_MAX = Option.integer("parallelism.max", 0, 0, 32_768,
            "The highest parallelism a savepoint of this job can later be restored at; 0: Flink's pipeline.max-parallelism, "
                    + "or 128 when Flink's configuration sets none.");
    public static final Option<Integer> PARALLELISM_SOURCE = Option.integer("parallelism.source", 0, 0, 32_768,
            "Pulsar source; 0 = Flink's parallelism. Raised until each partition has its own reader; 1 on non-partitioned topics or a pattern.");
    public static final Option<Integer> PARALLELISM_DEDUP = Option.integer("parallelism.dedup", 0, 0, 32_768,
            "Decode and idempotency check; 0 = the source's parallelism (so the processing stage runs in the source's task).");
    public static final Option<Integer> PARALLELISM_UDF = Option.integer("parallelism.udf", 0, 0, 32_768,
            "The processing stage (batched UDF and encoding); 0 = parallelism.dedup's. Unlike the source's, a UDF outage holds checkpoints.");
    public static final Option<Integer> PARALLELISM_SINK = Option.integer("parallelism.sink", 0, 0, 32_768,
            "Celery sink and DLQ sink; 0 = Flink's parallelism.");

    public static final List<Option<?>> ALL = List.of(
            TOPIC, DLQ_TOPIC, DLQ_SUBSCRIPTION, CHANNEL, CACHE_TTL, BATCH_SIZE, MAX_RETRIES, BACKOFF, TASK_TIMEOUT, RATE_LIMIT, RATE_WINDOW,
            UDF_CLASS, UDF_PARAMS, UDF_SCHEMA, UDF_ROUTING, UDF_BATCH_TASK, UDF_MAX_LINGER, UDF_MAX_BACKOFF,
            CIRCUIT_FAILURE_THRESHOLD, CIRCUIT_OPEN_FOR, UDF_FANOUT_TOPIC, UDF_FANOUT_SUBSCRIPTION,
            PULSAR_SERVICE_URL, PULSAR_ADMIN_URL, PULSAR_SUBSCRIPTION, PULSAR_TOPIC_PATTERN, PULSAR_START_POSITION,
            PULSAR_AUTH_TOKEN, PULSAR_AUTH_TOKEN_FILE, PULSAR_TLS_TRUST_CERTS_FILE, PULSAR_TLS_ALLOW_INSECURE, PULSAR_TLS_HOSTNAME_VERIFICATION,
            PULSAR_PARTITION_DISCOVERY_INTERVAL, PULSAR_MAX_FETCH_TIME,
            VALKEY_URI, VALKEY_PASSWORD, VALKEY_PASSWORD_FILE, VALKEY_TLS_CA_FILE, VALKEY_ALLOW_EVICTION,
            VALKEY_WAIT_REPLICAS, VALKEY_WAIT_AOF, VALKEY_WAIT_TIMEOUT,
            CELERY_TASK, CELERY_MAX_QUEUE_DEPTH, CELERY_GLOBAL_KEYPREFIX, CELERY_VISIBILITY_TIMEOUT, CELERY_MAX_TASK_BYTES,
            CELERY_MESSAGES_PER_SCRIPT, CELERY_MAX_BATCH_SIZE, CELERY_MAX_IN_FLIGHT, CELERY_MAX_TIME_IN_BUFFER,
            EVENTS_ID_POINTER, EVENTS_MAX_PAYLOAD_BYTES, EVENTS_MAX_NESTING_DEPTH, EVENTS_REQUIRE_ID, EVENTS_ID_FALLBACK,
            DEDUP_CAPACITY, DEDUP_TIMEOUT, DEDUP_NEAR_CACHE_SIZE,
            CHECKPOINT_INTERVAL, CHECKPOINT_MODE, CHECKPOINT_TIMEOUT,
            RESTART_STRATEGY, RESTART_ATTEMPTS, RESTART_DELAY, RESTART_MAX_DELAY,
            PARALLELISM_MAX, PARALLELISM_SOURCE, PARALLELISM_DEDUP, PARALLELISM_UDF, PARALLELISM_SINK);
}
