package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Review F3 of the renewal: kernel 2 declared kernel 1 dead (its link broke; kernel 2 has the
 * higher id), then lost its pager session and rejoined. The new session owes nothing to the
 * earlier one's view: kernel 2 dials kernel 1 again, kernel 1 takes it back as a rejoin, and the
 * two live kernels reach each other with no renewal. Real links; waits on conditions, never sleeps.
 */
class RejoinAfterADeathTest {
    private static final long LEASE_MS = 2_000;
    private EventLoopGroup group;
    private LinkedCore k1;
    private LinkedCore k2;

    @BeforeEach
    void start() throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        k1 = new LinkedCore(1, group, LEASE_MS);
        k2 = new LinkedCore(2, group, LEASE_MS);
        KernelDirectory directory = new KernelDirectory(Map.of(1, k1.address, 2, k2.address));
        k1.links.connect(directory);
        k2.links.connect(directory);
    }

    @AfterEach
    void stop() {
        k1.close();
        k2.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Polled every 10 ms, not spun (a spinning test thread holds the links' lock from their loops). */
    private static void await(java.util.function.BooleanSupplier condition) {
        org.awaitility.Awaitility.await().atMost(40, TimeUnit.SECONDS).pollInterval(java.time.Duration.ofMillis(10))
                .until(condition::getAsBoolean);
    }

    @Test
    void aKernelDeadHereBeforeALeaveIsDialledAgainAtTheRejoin() {
        await(() -> k1.links.admissions.inbound(2) != null && k2.links.admissions.inbound(1) != null);
        k2.links.deaths.diedIn(1, 0, "test: its link broke", false);
        // at once, well within the lease after which kernel 2 would probe kernel 1 and, refused
        // as a broken link with the higher id, renew (it did when this waited for kernel 1 to see
        // the close first: session 2 under load); kernel 1 declares it dead at the leave anyway
        k2.links.leave(); // kernel 2 lost its pager session
        k2.links.rejoin();
        await(() -> !k2.links.dead(1) && !k1.links.dead(2) && k1.links.admissions.inbound(2) != null
                && k2.links.admissions.inbound(1) != null);
        assertThat(k2.links.session()).isEqualTo(1);
        assertThat(k1.links.renewals() + k2.links.renewals()).as("a rejoin, no renewal").isZero();
    }
}
