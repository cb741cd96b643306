package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three kernels on real links: kernels 1 and 2 both declare kernel 3 dead as silent (one pause of
 * kernel 3 seen by both). Kernel 3 probes both and both refuse it as silent; it renews its IPC
 * session once (review F2: the later refusal is about the session it renewed away from, and its
 * probes were closed at the renewal), and then all three are alive to each other with no probes
 * left. Waits are on conditions with a deadline, never sleeps.
 */
class RenewOnceTest {
    private static final long LEASE_MS = 2_000;
    private EventLoopGroup group;
    private LinkedCore k1;
    private LinkedCore k2;
    private LinkedCore k3;

    @BeforeEach
    void start() throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        k1 = new LinkedCore(1, group, LEASE_MS);
        k2 = new LinkedCore(2, group, LEASE_MS);
        k3 = new LinkedCore(3, group, LEASE_MS);
        KernelDirectory directory = new KernelDirectory(Map.of(1, k1.address, 2, k2.address, 3, k3.address));
        k1.links.connect(directory);
        k2.links.connect(directory);
        k3.links.connect(directory);
    }

    @AfterEach
    void stop() {
        k1.close();
        k2.close();
        k3.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * Polled every 10 ms, not spun: a test thread spinning on the links' synchronized getters kept
     * their event loops from the lock on a loaded machine (every link 'silent for a lease before
     * its hello', 3 runs of 3 at load 25-31 on 2 cores).
     */
    private static void await(java.util.function.BooleanSupplier condition) {
        org.awaitility.Awaitility.await().atMost(40, TimeUnit.SECONDS).pollInterval(java.time.Duration.ofMillis(10))
                .until(condition::getAsBoolean);
    }

    /** Every kernel alive to every other, linked both ways, no probe going on. */
    private boolean allBack() {
        List<LinkedCore> all = List.of(k1, k2, k3);
        for (LinkedCore a : all) {
            if (a.links.probes.chains() != 0) {
                return false;
            }
            for (LinkedCore b : all) {
                if (a != b && (a.links.dead(b.id) || a.links.admissions.inbound(b.id) == null)) {
                    return false;
                }
            }
        }
        return true;
    }

    @Test
    void onePauseSeenByTwoKernelsRenewsOnce() {
        await(() -> k1.links.admissions.inbound(3) != null && k2.links.admissions.inbound(3) != null && k3.links.admissions.inbound(1) != null
                && k3.links.admissions.inbound(2) != null);
        k1.links.deaths.diedIn(3, 0, "test: nothing heard from it for a lease", true);
        k2.links.deaths.diedIn(3, 0, "test: nothing heard from it for a lease", true);
        await(() -> k3.links.renewals() >= 1 && allBack());
        assertThat(k3.links.renewals()).as("one pause, one renewal").isEqualTo(1);
        assertThat(k3.links.session()).isEqualTo(1);
        assertThat(k1.links.renewals() + k2.links.renewals()).isZero();
    }
}
