package io.celerybridge.job;

import org.apache.flink.api.java.utils.ParameterTool;

import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * Publishes demo events to the job's topic: {@code --count N} (default 10), {@code --topic},
 * {@code --pulsar.service-url}, {@code --rate PER_SECOND} (default: as fast as possible),
 * {@code --repeat-every K} (publish every K-th event twice, to show deduplication),
 * {@code --malformed-every M} (every M-th message is not JSON, to show the DLQ).
 */
public final class DemoEventProducer {

    private DemoEventProducer() {}

    public static void main(String[] args) throws Exception {
        ParameterTool p = ParameterTool.fromArgs(args);
        String serviceUrl = p.get("pulsar.service-url", "pulsar://127.0.0.1:6650");
        String topic = p.get("topic", "persistent://public/default/celery-bridge-events");
        int count = p.getInt("count", 10);
        int rate = p.getInt("rate", 0);
        String prefix = p.get("id-prefix", "demo-" + Instant.now().getEpochSecond());
        int repeatEvery = p.getInt("repeat-every", 0);
        int malformedEvery = p.getInt("malformed-every", 0);

        try (PulsarClient client = PulsarClient.builder().serviceUrl(serviceUrl).build();
                Producer<byte[]> producer = client.newProducer(Schema.BYTES).topic(topic)
                        .batchingMaxPublishDelay(5, TimeUnit.MILLISECONDS).create()) {
            for (int i = 1; i <= count; i++) {
                String json = "{\"id\":\"" + prefix + "-" + i + "\",\"type\":\"demo\",\"n\":" + i
                        + ",\"at\":\"" + Instant.now() + "\"}";
                producer.sendAsync(json.getBytes(StandardCharsets.UTF_8));
                if (repeatEvery > 0 && i % repeatEvery == 0) {
                    producer.sendAsync(json.getBytes(StandardCharsets.UTF_8));
                }
                if (malformedEvery > 0 && i % malformedEvery == 0) {
                    producer.sendAsync(("{\"id\": \"" + prefix + "-broken-" + i + "\", ").getBytes(StandardCharsets.UTF_8));
                }
                if (rate > 0) {
                    Thread.sleep(1000L / rate);
                }
            }
            producer.flush();
        }
        System.out.println("published " + count + " events with ids " + prefix + "-1.." + prefix + "-" + count + " to " + topic);
    }
}
