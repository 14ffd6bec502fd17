package io.celerybridge.connectors.pulsar.internal;

import org.apache.flink.annotation.Internal;

import org.apache.pulsar.client.api.PulsarClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads, ahead of time, the classes a Pulsar client or admin client loads for the first time only
 * when it closes, or when its netty threads end after the close returned.
 *
 * <p>A job's class loader can be closed before that happens, twice over on a session cluster. The
 * job's {@code main()} runs in the JobManager for a REST submission, and its admin clients' event
 * loops ended about 2 s after their close (netty's quiet period), after the submission's class
 * loader was closed: every submission logged eight threads dying of a {@code NoClassDefFoundError}.
 * And Flink closes a source's enumerator asynchronously and does not wait for it before closing the
 * job's class loader (FLINK-24680, open). Closing its client, the Pulsar enumerator then failed to
 * load these classes: its netty event loop died of a {@code NoClassDefFoundError}, the close waited
 * forever for that loop to end, and the waiting thread kept the job's class loader (27 MB of
 * metaspace) in the JobManager; with {@code cluster.uncaught-exception-handling: FAIL} the error
 * would stop the JobManager. Loaded early, they are there when the close needs them.
 *
 * <p>The list is what {@code -Xlog:class+load} showed a pulsar-client-all 3.0 client loading between
 * the start and the end of its {@code close()}, after a topic metadata query (what the enumerator
 * does), and by an admin client between its {@code close()} and the end of its threads. A name
 * missing from another client version is skipped (a unit test checks them against the one we ship);
 * {@link FreshThreadSplitEnumerator} also bounds the close, so a class missing here costs a slower
 * release, not a leak.
 */
@Internal
public final class PulsarClientClosingClasses {

    private static final Logger LOG = LoggerFactory.getLogger(PulsarClientClosingClasses.class);

    static final String[] NAMES = {
        "org.apache.pulsar.common.util.FutureUtil",
        "org.apache.pulsar.common.util.FutureUtil$LowOverheadTimeoutException",
        "org.apache.pulsar.common.util.collections.ConcurrentLongHashMap$EntryProcessor",
        "org.apache.pulsar.client.impl.TransactionMetaStoreHandler",
        "org.apache.pulsar.client.impl.TopicListWatcher",
        "org.apache.pulsar.client.api.PulsarClientException$GettingAuthenticationDataException",
        "org.apache.pulsar.client.api.PulsarClientException$NotConnectedException",
        "org.apache.pulsar.client.api.PulsarClientException$InvalidMessageException",
        "org.apache.pulsar.client.api.PulsarClientException$NotSupportedException",
        "org.apache.pulsar.client.api.PulsarClientException$ProducerQueueIsFullError",
        "org.apache.pulsar.client.api.PulsarClientException$ChecksumException",
        "org.apache.pulsar.client.api.PulsarClientException$CryptoException",
        "org.apache.pulsar.client.api.PulsarClientException$MessageAcknowledgeException",
        "org.apache.pulsar.client.api.PulsarClientException$TransactionHasOperationFailedException",
        "org.apache.pulsar.client.api.PulsarClientException$MemoryBufferIsFullError",
        "org.apache.pulsar.shade.io.netty.channel.AbstractChannel$AbstractUnsafe$7",
        "org.apache.pulsar.shade.io.netty.util.concurrent.GlobalEventExecutor$2",
        "org.apache.pulsar.shade.io.netty.util.concurrent.DefaultPromise$1",
        // the admin client's HTTP client (AsyncHttpClient) and its dependency injection (hk2)
        "org.apache.pulsar.shade.io.netty.channel.group.ChannelMatchers",
        "org.apache.pulsar.shade.io.netty.channel.group.ChannelMatchers$1",
        "org.apache.pulsar.shade.io.netty.channel.group.ChannelMatchers$ClassMatcher",
        "org.apache.pulsar.shade.io.netty.channel.group.ChannelMatchers$InvertMatcher",
        "org.apache.pulsar.shade.io.netty.channel.group.DefaultChannelGroupFuture",
        "org.apache.pulsar.shade.io.netty.channel.group.DefaultChannelGroupFuture$1",
        "org.apache.pulsar.shade.org.jvnet.hk2.internal.ServiceLocatorImpl$7",
        "org.apache.pulsar.shade.org.jvnet.hk2.internal.SingletonContext$GenerationComparator",
        "org.apache.pulsar.shade.io.netty.buffer.PoolArena$1",
    };

    private PulsarClientClosingClasses() {}

    /** Loads them, once per class loader, in the one that loaded the Pulsar client. */
    public static void load() {
        Once.DONE.hashCode(); // initializes Once, which loads them
    }

    private static final class Once {
        static final Object DONE = new Object();

        static {
            ClassLoader loader = PulsarClient.class.getClassLoader();
            for (String name : NAMES) {
                try {
                    Class.forName(name, true, loader);
                } catch (ClassNotFoundException | LinkageError e) {
                    LOG.debug("Pulsar client class {} not loaded ahead of closing: {}", name, e.toString());
                }
            }
        }
    }
}
