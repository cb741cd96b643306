package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachThread;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;

/**
 * Test support for a boost kept over a broken stream (KernelCoreKeptBoostUnlockTest,
 * KernelCoreKeptBoostWordTest): the owner boosted across the break, the reclaim welcomed, a lease
 * of keepalives after it.
 */
final class KeptBoostEpisode {
    private KeptBoostEpisode() {
    }

    /** owner (priority 5) holds the futex at offset 0, boosted to 60 by a waiter elsewhere when the stream breaks. */
    static MachThread boostedOwnerAcrossABreak(CoreFixture k) {
        MachThread owner = k.thread(5);
        k.acquireFromPager(owner, k.base);
        k.relinquish(0, 60);
        assertThat(owner.effectivePriority).isEqualTo(60);
        k.core.xp().onStreamBroken(0, "connection reset");
        assertThat(owner.effectivePriority).as("kept over the break").isEqualTo(60);
        return owner;
    }

    /** The kernel reconnects a twentieth of the lease later and its reclaim is welcomed. */
    static void reclaimWelcomed(CoreFixture k, long leaseMs) {
        k.env.advance(leaseMs * 1_000_000 / 20);
        assertThat(k.single().getKernelHello().hasReclaim()).isTrue();
        k.core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setPageSize(CoreFixture.PAGE).setLeaseMillis(leaseMs).setSessionEpoch(6)).build());
        k.env.drain();
    }

    /** Past the lease the kept boost lasts after the welcome, keepalives answered (the session lives). */
    static void aLeaseLater(CoreFixture k, long leaseMs) {
        for (int i = 0; i < 12; i++) {
            k.env.advance(leaseMs * 1_000_000 / 10);
            k.answerKeepalives();
        }
        k.env.drain();
    }
}
