package io.celerybridge.job;

import org.apache.pulsar.client.api.Producer;

import java.nio.charset.StandardCharsets;

/**
 * The events the end-to-end tests publish and count: {@code {"id": "<run>-<i>", "n": i}} for
 * {@code i < n}, so {@link QueuedTasks#tally} can tell which are missing or enqueued twice.
 */
final class TestEvents {

    private TestEvents() {}

    static String id(String run, int i) {
        return run + "-" + i;
    }

    static byte[] event(String run, int i) {
        return ("{\"id\": \"" + id(run, i) + "\", \"n\": " + i + "}").getBytes(StandardCharsets.UTF_8);
    }

    /** Publishes events 0..n-1, every {@code repeatEvery}-th a second time (0: none), and flushes. */
    static void publish(Producer<byte[]> producer, String run, int n, int repeatEvery) {
        for (int i = 0; i < n; i++) {
            byte[] payload = event(run, i);
            producer.sendAsync(payload);
            if (repeatEvery > 0 && i % repeatEvery == 0) {
                producer.sendAsync(payload); // the same event published twice
            }
        }
        producer.flushAsync().join();
    }

    /** {@link #publish} on a thread of its own, already started: for faults injected mid-stream. */
    static Thread publishInBackground(Producer<byte[]> producer, String run, int n, int repeatEvery) {
        Thread publisher = new Thread(() -> publish(producer, run, n, repeatEvery), "publisher-" + run);
        publisher.start();
        return publisher;
    }
}
