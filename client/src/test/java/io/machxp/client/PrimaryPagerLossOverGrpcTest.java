package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.LocalThread;
import io.machxp.kernel.core.KernelException;
import io.machxp.proto.task.Errno;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * docs/multi-pager.md, "Kernel ids and TIDs": a kernel that loses its primary pager (0) stops
 * using every pager, since the primary may give its id, which is in its TIDs, to another kernel;
 * the secondary pager then declares it dead within its own lease, and passes on what it held
 * there with OWNER_DIED.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PrimaryPagerLossOverGrpcTest {
    /**
     * Both pagers' leases: the test waits out both (A's with pager 0, then pager 1's of A), while
     * A's sessions before the crash and the observer's with pager 1 must go on; 3 s rather than
     * 1.5 s, so that only a pause of a kernel's keepalives of over 2 s on a loaded machine (not
     * one of over 1 s) ends one of those early.
     */
    private static final Duration LEASE = Duration.ofSeconds(3);

    @Test
    void aKernelThatLosesItsPrimaryStopsUsingTheSecondaryToo() throws Exception {
        try (TwoPagers cluster = TwoPagers.start(1, LEASE)) {
            LocalTask ta = cluster.kernel(0).taskCreate("a");
            long one = ta.vmMap(TwoPagers.ONE);
            LocalThread t = ta.threadCreate();
            LocalThread t2 = ta.threadCreate();
            t.lockFutex(one);
            assertThat(t2.tryLockFutex(one)).as("held by t").isFalse();

            cluster.crashPagerZero();
            // A call on pager 1's object fails with the primary's loss once A's lease with it ran out.
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                try {
                    t2.tryLockFutex(one);
                    return false;
                } catch (KernelException e) {
                    return e.errno() == Errno.EIO && e.getMessage().contains("lost its session with its pager 0");
                }
            });
            // Pager 1 declares A dead within its lease: an observer using pager 1 alone gets A's futex
            // with OWNER_DIED (it waits until then).
            try (EmbeddedCluster observer = EmbeddedCluster.startKernels(Map.of("X", CoreOptions.DEFAULT),
                    cluster.pager(1).target());
                    KernelClient x = KernelClient.connect(observer.kernelTargets().get(0))) {
                TaskClient tx = x.taskCreate("x");
                assertThat(tx.threadCreate().lock(tx.vmMap(TwoPagers.ONE), Duration.ofSeconds(20)).getOwnerDied())
                        .isTrue();
            }
        }
    }
}
