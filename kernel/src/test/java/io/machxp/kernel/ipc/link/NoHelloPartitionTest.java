package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Review 2 N3: two live kernels that declared each other dead before either took the other's
 * hello (kernel 1's first contact with kernel 2 failed; kernel 2's hello is then refused at
 * kernel 1, and kernel 2 declares kernel 1 dead when that connection closes). Before, neither
 * had the other's hello on record, both answered each other's probes "not dead here", nobody
 * renewed and they stayed cut off. Now kernel 1 records the refused hello, answers kernel 2's
 * probe "dead here", and kernel 2 renews: both alive to each other again.
 */
class NoHelloPartitionTest {
    @Test
    void aPartitionBeforeTheFirstHelloHeals() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        LinkedCore k1 = new LinkedCore(1, group, 500);
        LinkedCore k2 = new LinkedCore(2, group, 500);
        try {
            KernelDirectory directory = new KernelDirectory(Map.of(1, k1.address, 2, k2.address));
            k1.links.deaths.died(2, "test: no connection within the first contact");
            k1.links.connect(directory);
            k2.links.connect(directory);
            Awaitility.await().atMost(40, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(10))
                    .until(() -> k1.links.renewals() + k2.links.renewals() >= 1);
            Awaitility.await().atMost(40, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(10))
                    .until(() -> !k1.links.dead(2) && !k2.links.dead(1));
            assertThat(k1.links.renewals() + k2.links.renewals()).as("renewals").isGreaterThanOrEqualTo(1);
        } finally {
            k1.close();
            k2.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
