package io.celerybridge.connectors.pulsar.internal;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class PulsarClientClosingClassesTest {

    /** A client upgrade that renames one of them fails here, not as a NoClassDefFoundError on a cluster. */
    @Test
    void everyNamedClassExistsInThePulsarClientWeShip() {
        ClassLoader loader = getClass().getClassLoader();
        assertThat(Arrays.stream(PulsarClientClosingClasses.NAMES).filter(name -> {
            try {
                Class.forName(name, false, loader);
                return false;
            } catch (ClassNotFoundException e) {
                return true;
            }
        }).toList()).as("classes not found").isEmpty();
        PulsarClientClosingClasses.load();
    }
}
