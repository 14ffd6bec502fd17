package io.celerybridge.bench;

import io.celerybridge.connectors.celery.CeleryEnvelopeCodec;
import io.celerybridge.connectors.celery.CeleryMessage;
import io.celerybridge.connectors.celery.CelerySink;
import io.celerybridge.connectors.celery.CeleryTask;
import io.celerybridge.connectors.valkey.ValkeyClientProvider;

import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.java.utils.ParameterTool;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;

import java.time.Duration;

/**
 * The Celery sink alone: N messages with a 1 KB event payload, generated in the job, enqueued by
 * the real sink (atomic script, many messages per call) into a real Valkey. The rate is taken
 * from the broker's side: from the first task in the queue to the N-th.
 *
 * <p>With {@code --wait-replicas N} and/or {@code --wait-aof}, the sink runs with the durability
 * option (WAIT / WAITAOF after each enqueue call), to measure what it costs.
 *
 * <p>Prints one line: {@code RESULT sink parallelism=P events=N seconds=S rate=R}.
 */
public final class SinkThroughputBenchmark {

    private SinkThroughputBenchmark() {}

    public static void main(String[] args) throws Exception {
        ParameterTool p = ParameterTool.fromArgs(args);
        String uri = p.getRequired("valkey-uri");
        int events = p.getInt("events", 300_000);
        int parallelism = p.getInt("parallelism", 1);
        int payloadBytes = p.getInt("payload-bytes", 1024);
        int perScript = p.getInt("messages-per-script", CelerySink.DEFAULT_MESSAGES_PER_SCRIPT);
        int waitReplicas = p.getInt("wait-replicas", 0);
        boolean waitAof = p.has("wait-aof");
        String queue = "bench-" + System.nanoTime();

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        if (p.has("generate-only")) {
            // The generator alone, to tell its cost from the sink's.
            env.getConfig().enableObjectReuse();
            env.fromSequence(0, events - 1).map(new ToMessage(queue, payloadBytes))
                    .sinkTo(new org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink<>());
            long t = env.execute("generate-only").getNetRuntime();
            System.out.printf("RESULT generate-only parallelism=%d events=%d seconds=%.3f rate=%.0f%n",
                    parallelism, events, t / 1e3, events / (t / 1e3));
            System.exit(0);
        }
        env.getConfig().enableObjectReuse(); // as the job does
        CelerySink.Builder sink = CelerySink.builder()
                .setClientProvider(ValkeyClientProvider.forUri(uri))
                .setMessagesPerScript(perScript)
                .setDedupTtl(Duration.ofHours(1));
        if (waitReplicas > 0 || waitAof) {
            sink.setDurability(waitReplicas, waitAof, Duration.ofSeconds(1)); // the job's default valkey.wait_timeout
        }
        env.fromSequence(0, events - 1)
                .map(new ToMessage(queue, payloadBytes))
                .sinkTo(sink.build());

        RedisClient client = RedisClient.create(uri);
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            RedisCommands<String, String> redis = c.sync();
            env.executeAsync("sink-benchmark");
            long first = 0;
            long last;
            while (true) {
                long depth = redis.llen(queue);
                long now = System.nanoTime();
                if (first == 0 && depth > 0) {
                    first = now;
                }
                if (depth >= events) {
                    last = now;
                    break;
                }
                Thread.sleep(20);
            }
            double seconds = (last - first) / 1e9;
            System.out.printf("RESULT sink parallelism=%d events=%d seconds=%.3f rate=%.0f%n",
                    parallelism, events, seconds, events / seconds);
            redis.del(queue);
        } finally {
            client.shutdown();
        }
        System.exit(0);
    }

    /** Encodes one real envelope per subtask, then varies only the ids: the cost measured is the sink's. */
    static final class ToMessage extends RichMapFunction<Long, CeleryMessage> {
        private final String queue;
        private final int payloadBytes;
        private transient String[] parts;

        ToMessage(String queue, int payloadBytes) {
            this.queue = queue;
            this.payloadBytes = payloadBytes;
        }

        @Override
        public void open(Configuration parameters) throws Exception {
            StringBuilder payload = new StringBuilder("{\"id\": \"@ID@\", \"type\": \"bench\", \"data\": \"");
            while (payload.length() < payloadBytes - 3) {
                payload.append('x');
            }
            payload.append("\"}");
            String template = CeleryEnvelopeCodec.builder().build().encode(CeleryTask.builder().id("@ID@").name("celery_bridge.process_event")
                    .kwargsJson("{\"event\": " + payload + "}").queue(queue).build());
            parts = template.split("@ID@", -1);
        }

        @Override
        public CeleryMessage map(Long i) {
            String id = queue + "-" + i;
            StringBuilder envelope = new StringBuilder(parts.length * 16 + 2048).append(parts[0]);
            for (int k = 1; k < parts.length; k++) {
                envelope.append(id).append(parts[k]);
            }
            return new CeleryMessage(id, "bench:dedup:" + id, queue, queue, envelope.toString());
        }
    }
}
