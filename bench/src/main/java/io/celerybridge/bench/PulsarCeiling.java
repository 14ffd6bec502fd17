package io.celerybridge.bench;

import org.apache.flink.api.java.utils.ParameterTool;

import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;

import java.util.concurrent.TimeUnit;

/**
 * The Pulsar ceiling: a plain consumer (a new subscription from the earliest message,
 * cumulative acks every 1,000) reading {@code --count} messages of a backlog. The rate runs from
 * the first message received to the last. Prints {@code RESULT pulsar_ceiling events=N seconds=S rate=R}.
 */
public final class PulsarCeiling {

    private PulsarCeiling() {}

    public static void main(String[] args) throws Exception {
        ParameterTool p = ParameterTool.fromArgs(args);
        long count = p.getLong("count");
        try (PulsarClient client = PulsarClient.builder().serviceUrl(p.get("service-url", "pulsar://127.0.0.1:6650")).build();
                Consumer<byte[]> consumer = client.newConsumer(Schema.BYTES).topic(p.getRequired("topic"))
                        .subscriptionName("ceiling-" + System.nanoTime())
                        .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                        .receiverQueueSize(5_000).subscribe()) {
            long first = 0;
            long bytes = 0;
            for (long n = 1; n <= count; n++) {
                Message<byte[]> m = consumer.receive(60, TimeUnit.SECONDS);
                if (m == null) {
                    throw new IllegalStateException("only " + (n - 1) + " of " + count + " messages arrived within 60 s");
                }
                if (first == 0) {
                    first = System.nanoTime();
                }
                bytes += m.getData().length;
                if (n % 1_000 == 0 || n == count) {
                    consumer.acknowledgeCumulativeAsync(m);
                }
            }
            double seconds = (System.nanoTime() - first) / 1e9;
            System.out.printf("RESULT pulsar_ceiling events=%d bytes=%d seconds=%.3f rate=%.0f%n", count, bytes, seconds, count / seconds);
        }
    }
}
