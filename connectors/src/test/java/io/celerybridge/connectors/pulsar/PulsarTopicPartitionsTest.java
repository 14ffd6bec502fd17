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
    void severalTopicsGetAParallelismAtWhichTheConnectorsOwnersAreDistinct() {
        Map<String, Integer> topics = new LinkedHashMap<>();
        topics.put("persistent://public/default/a", 2);
        topics.put("persistent://public/default/b", 3);
        int p = PulsarTopicPartitions.oneReaderPerPartition(topics, 1, 40);
        assertThat(p).isGreaterThanOrEqualTo(5);
        Set<Integer> owners = new HashSet<>();
        for (Map.Entry<String, Integer> t : topics.entrySet()) {
            for (int i = 0; i < t.getValue(); i++) {
                // flink-connector-pulsar 4.1.0 SplitAssignerImpl.calculatePartitionOwner
                owners.add((((t.getKey().hashCode() * 31) & Integer.MAX_VALUE) % p + i) % p);
            }
        }
        assertThat(owners).hasSize(5);
    }
}
