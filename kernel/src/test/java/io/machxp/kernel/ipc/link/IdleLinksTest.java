package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two kernels whose links carry nothing but keepalives stay alive for leases on end: each side's
 * keepalives (on an idle link) reach the other before its one-lease read timeout. Waits on the
 * keepalives counted, not on time. The lease is 4 s, not the links' default (7 s, which is there
 * to outlast the pager's lease, not needed here, and made the nine keepalives take 21 s): only
 * missing keepalives may end a link, not a loaded machine's scheduling (at 600 ms a hello came
 * later than a lease after its connection in 1 run of 3 on 2 busy cores, and the link was
 * refused; 3 s, the default before, held in CI; 4 s tolerates a stall of over 2.6 s between a
 * keepalive and the next).
 */
class IdleLinksTest {
    private static final long LEASE_MS = 4_000;
    /** Three leases' worth: one keepalive per third of a lease at most on an idle link. */
    private static final long KEEPALIVES = 9;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private LinkedCore k1;
    private LinkedCore k2;

    @AfterEach
    void stop() {
        List.of(k1, k2).forEach(LinkedCore::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void idleLinksStayAliveOnTheirKeepalives() throws InterruptedException {
        k1 = new LinkedCore(1, group, LEASE_MS);
        k2 = new LinkedCore(2, group, LEASE_MS);
        KernelDirectory directory = new KernelDirectory(Map.<Integer, InetSocketAddress>of(1, k1.address, 2, k2.address));
        k1.links.connect(directory);
        k2.links.connect(directory);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (k1.links.keepalivesSent() < KEEPALIVES || k2.links.keepalivesSent() < KEEPALIVES) {
            assertThat(System.nanoTime()).as("%d keepalives each within 60 s", KEEPALIVES).isLessThan(deadline);
            assertThat(k1.links.dead(2) || k2.links.dead(1)).as("a kernel declared dead on an idle link").isFalse();
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000); // looks again in 5 ms
        }
        assertThat(k1.links.dead(2)).isFalse();
        assertThat(k2.links.dead(1)).isFalse();
    }
}
