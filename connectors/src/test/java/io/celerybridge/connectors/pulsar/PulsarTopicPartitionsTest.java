package io.celerybridge.connectors.pulsar;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class PulsarTopicPartitionsTest {

    @Test
    void aSingleTopicGetsAtLeastOneReaderPerPartition() {
        Map<String, Integer> one = Map.of("persistent://public/default/events", 4);
        assertThat(PulsarTopicPartitions.oneReaderPerPartition(one, 1, 16)).isEqualTo(4);
        assertThat(PulsarTopicPartitions.oneReaderPerPartition(one, 6, 16)).isEqualTo(6);
        assertThat(PulsarTopicPartitions.oneReaderPerPartition(one, 1, 3)).isEqualTo(-1);
    }

    @Test
    void severalTopicsGetAParallelismAtWhichTheConnectorsOwnersAreDistinct() throws Exception {
        Map<String, Integer> topics = new LinkedHashMap<>();
        topics.put("persistent://public/default/a", 2);
        topics.put("persistent://public/default/b", 3);
        topics.put("persistent://tenant/ns/orders", 4);
        int p = PulsarTopicPartitions.oneReaderPerPartition(topics, 1, 80);
        assertThat(p).isGreaterThanOrEqualTo(9);
        Set<Integer> owners = new HashSet<>();
        for (Map.Entry<String, Integer> t : topics.entrySet()) {
            for (int i = 0; i < t.getValue(); i++) {
                owners.add(connectorsOwner(t.getKey(), i, p));
            }
        }
        assertThat(owners).as("readers the connector itself assigns the 9 partitions to at parallelism " + p).hasSize(9);
    }

    /** Many topic sets: wherever a parallelism is found, the connector's own owners are distinct at it. */
    @Test
    void theParallelismFoundGivesDistinctOwnersByTheConnectorsOwnFunction() throws Exception {
        java.util.Random random = new java.util.Random(42);
        int checked = 0;
        for (int set = 0; set < 200; set++) {
            Map<String, Integer> topics = new LinkedHashMap<>();
            int count = 1 + random.nextInt(3);
            for (int t = 0; t < count; t++) {
                topics.put("persistent://public/default/t-" + set + "-" + t, 1 + random.nextInt(6));
            }
            int p = PulsarTopicPartitions.oneReaderPerPartition(topics, 1, 128);
            if (p < 0) {
                continue;
            }
            Set<Integer> owners = new HashSet<>();
            int total = 0;
            for (Map.Entry<String, Integer> t : topics.entrySet()) {
                for (int i = 0; i < t.getValue(); i++, total++) {
                    owners.add(connectorsOwner(t.getKey(), i, p));
                }
            }
            assertThat(owners).as("owners of %s at parallelism %d", topics, p).hasSize(total);
            checked++;
        }
        assertThat(checked).as("topic sets with a parallelism found").isGreaterThan(150);
    }

    /**
     * flink-connector-pulsar's own owner function (package-private, hence reflection), not a copy:
     * a connector upgrade that changes it fails this test.
     */
    private static int connectorsOwner(String topic, int partition, int parallelism) throws Exception {
        java.lang.reflect.Method owner = Class.forName("org.apache.flink.connector.pulsar.source.enumerator.assigner.SplitAssignerImpl")
                .getDeclaredMethod("calculatePartitionOwner", String.class, int.class, int.class);
        owner.setAccessible(true);
        return (int) owner.invoke(null, topic, partition, parallelism);
    }
}
