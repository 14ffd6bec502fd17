package io.celerybridge.bench;

import org.apache.flink.api.java.utils.ParameterTool;

import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;

import java.util.concurrent.TimeUnit;

/**
 * Pre-fills a topic with {@code --count} events of {@code --size} bytes, {@code --duplicate-share}
 * of them repeats, as fast as the broker takes them. Prints
 * {@code RESULT publish events=N unique=U seconds=S rate=R}.
 */
public final class BacklogPublisher {

    private BacklogPublisher() {}

    public static void main(String[] args) throws Exception {
        ParameterTool p = ParameterTool.fromArgs(args);
        String topic = p.getRequired("topic");
        long count = p.getLong("count");
        BenchEvents events = new BenchEvents(p.get("id-prefix", "bench-" + System.currentTimeMillis()),
                p.getInt("size", 1024), p.getDouble("duplicate-share", 0.0));
        try (PulsarClient client = PulsarClient.builder().serviceUrl(p.get("service-url", "pulsar://127.0.0.1:6650")).build();
                Producer<byte[]> producer = client.newProducer(Schema.BYTES).topic(topic)
                        .enableBatching(true).batchingMaxPublishDelay(2, TimeUnit.MILLISECONDS)
                        .maxPendingMessages(10_000).blockIfQueueFull(true).sendTimeout(0, TimeUnit.SECONDS)
                        .create()) {
            long start = System.nanoTime();
            for (long i = 0; i < count; i++) {
                producer.sendAsync(events.next());
            }
            producer.flush();
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("RESULT publish events=%d unique=%d seconds=%.3f rate=%.0f%n",
                    events.published(), events.unique(), seconds, events.published() / seconds);
        }
    }
}
