package io.celerybridge.connectors.celery;

import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class CeleryTaskIdsTest {

    @Test
    void nameUuidMatchesRfc4122Version5() {
        // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")
        UUID dns = UUID.fromString("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        assertThat(CeleryTaskIds.nameUuid(dns, "python.org"))
                .isEqualTo(UUID.fromString("886313e1-3b8a-5372-9b90-0c9aee199e5d"));
    }

    @Test
    void sameKeySameIdOtherKeyOtherId() {
        assertThat(CeleryTaskIds.forKey("event-1")).isEqualTo(CeleryTaskIds.forKey("event-1"));
        assertThat(CeleryTaskIds.forKey("event-1")).isNotEqualTo(CeleryTaskIds.forKey("event-2"));
        assertThat(UUID.fromString(CeleryTaskIds.forKey("event-1")).version()).isEqualTo(5);
    }
}
