package io.celerybridge.connectors.pulsar;

import org.apache.flink.annotation.Internal;

/**
 * Keeps the Pulsar client's shaded netty on its Java (NIO) transport when it is loaded by a job's
 * class loader.
 *
 * <p>pulsar-client-all ships netty's native epoll transport. Loading it registers JNI global
 * references to a few of its classes (PeerCredentials, DatagramSocketAddress, ChannelException:
 * found in a TaskManager heap dump as the only roots of the finished jobs' class loaders), and a
 * JNI global reference is never released: on a session cluster every submission kept its class
 * loader, its classes (about 27 MB of metaspace) and the netty pools' direct memory (about 25 MB)
 * until the TaskManager ran out. With the native transport off nothing outside the class loader
 * refers to it, and it is collected when the job ends.
 *
 * <p>Netty reads the switch once per class loader, when its {@code Epoll} class initializes, so
 * the classes the Pulsar clients are built from call {@link #useJavaTransport()} from their static
 * initializers: they are loaded (by deserializing the job's operators) before any client exists.
 * A value the user set explicitly (-D...noNative=false) is kept.
 */
@Internal
public final class PulsarNativeTransport {

    /** netty's {@code io.netty.transport.noNative}, as relocated inside pulsar-client-all. */
    static final String NO_NATIVE = "org.apache.pulsar.shade.io.netty.transport.noNative";

    private PulsarNativeTransport() {}

    public static void useJavaTransport() {
        if (System.getProperty(NO_NATIVE) == null) {
            System.setProperty(NO_NATIVE, "true");
        }
    }
}
