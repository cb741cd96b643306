package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.pager.core.PagerStats;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * xp-spec 2.4 and 9.3 at a pager in its grace period after a restart, probed by kernels written
 * from xp.proto and xp-spec alone: a new kernel that sends its requests right after its hello
 * gets nothing until grace ends, then the welcome first and every answer in order; a kernel that
 * reclaimed has its keepalives answered in grace meanwhile.
 *
 * <p>The grace period is a lease long (5 s). What happens in it is read on the pager's own clock
 * and in the order it sends (its XP listener, on its core thread), not from when the test looks:
 * the new kernel's welcome goes no earlier than a lease after the pager started, and when it
 * goes the pager has answered the reclaimed kernel's keepalive and holds the new kernel's. The
 * JVM opens its first gRPC channel to a pager before the restart, so that the restarted pager's
 * grace is not spent loading classes; the probes only need their hellos and a keepalive to reach
 * it within the lease (with the 2 s lease this test had, a loaded machine could miss that).
 */
class HelloInGraceProbeTest {
    /** The lease, and so the restarted pager's grace period (the last pager's kernels' leases). */
    private static final Duration LEASE = Duration.ofSeconds(5);

    @Test
    void aNewKernelsPipelinedRequestsWaitForGraceAndFollowItsWelcome(@TempDir Path store) throws Exception {
        PagerConfig config = PagerConfig.loopback(Map.of("obj", 16L * 4096)).withLease(LEASE).withStoreDir(store);
        try (Pager first = Pager.start(config)) {
            assertThat(first.status().getInGrace()).isFalse();
            try (ProbeKernel warm = new ProbeKernel(first.target())) { // gRPC's classes loaded before the restart
                warm.send(ProbeKernel.hello("warm").build());
                warm.await(PagerToKernel::hasPagerWelcome);
            }
        }
        AtomicLong freshWelcomedAt = new AtomicLong(); // System.nanoTime, on the pager's core thread
        AtomicLong keepalivesAtFreshWelcome = new AtomicLong(-1); // received and answered by then
        long started = System.nanoTime(); // the grace period ends no earlier than a lease after this
        try (Pager pager = Pager.start(config)) {
            pager.stats().listen(new PagerStats.XpListener() {
                @Override
                public void received(String kernel, KernelToPager message) {}

                @Override
                public void sent(String kernel, PagerToKernel message) {
                    if (kernel.equals("fresh") && message.hasPagerWelcome()) {
                        freshWelcomedAt.set(System.nanoTime());
                        keepalivesAtFreshWelcome.set(pager.stats().keepalives());
                    }
                }
            });
            boolean inGrace = pager.status().getInGrace();
            if (System.nanoTime() - started < LEASE.toNanos()) { // asked and answered within the lease
                assertThat(inGrace).as("the restarted pager's status within its grace period").isTrue();
            }
            try (ProbeKernel fresh = new ProbeKernel(pager.target());
                    ProbeKernel back = new ProbeKernel(pager.target())) {
                fresh.send(ProbeKernel.hello("fresh").build());
                fresh.send(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(1)
                        .setName("obj").setPageSize(4096)).build());
                fresh.send(ProbeKernel.lock(8));
                fresh.send(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(77))
                        .build());

                back.send(ProbeKernel.hello("back").setKernelHello(ProbeKernel.hello("back").getKernelHello()
                        .toBuilder().setReclaim(Reclaim.newBuilder().setKernelId(5))).build());
                assertThat(back.await(PagerToKernel::hasPagerWelcome).getPagerWelcome().getKernelId())
                        .as("a reclaim, taken in grace only").isEqualTo(5);
                assertThat(back.barrier()).isEmpty();

                List<PagerToKernel> got = new ArrayList<>();
                PagerToKernel m;
                do {
                    m = fresh.await(x -> true);
                    got.add(m);
                } while (!m.hasPagerKeepalive());
                assertThat(pager.status().getInGrace()).isFalse();
                assertThat(got).hasSize(4);
                assertThat(got.get(0).getPagerWelcome().getKernelId()).as("the welcome first").isNotIn(0, 5);
                assertThat(got.get(1).hasMemoryObjectReady()).isTrue();
                assertThat(got.get(2).hasMemoryObjectFutexGranted()).isTrue();
                assertThat(got.get(3).getPagerKeepalive().getSequence()).isEqualTo(77);

                // Four keepalives in all (each kernel's, received and answered); only fresh's answer,
                // which follows its welcome, was not given yet when the grace period ended.
                assertThat(pager.stats().keepalives()).isEqualTo(4);
                assertThat(keepalivesAtFreshWelcome.get()).as("keepalives received and answered when grace ended: "
                        + "back's answered in grace, fresh's held").isEqualTo(3);
                assertThat(freshWelcomedAt.get() - started)
                        .as("the new kernel's welcome waits out the grace period (ns since the start)")
                        .isGreaterThanOrEqualTo(LEASE.toNanos());
            }
        }
    }
}
