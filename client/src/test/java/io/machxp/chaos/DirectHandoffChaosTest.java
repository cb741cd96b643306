package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.variant.Variants;
import org.junit.jupiter.api.Test;

/**
 * The direct handoff (xp-spec 14) under chaos: copies forwarded over kernel links that lose one in
 * {@link ForwardDrops#ONE_IN}, with kernels crashing, shutting down, pausing and cut off while a
 * copy is under way, and pagers restarting; every history passes the checker and nobody waits
 * for ever. The links' fault touches only what the direct handoff sends.
 */
class DirectHandoffChaosTest {
    @Test
    void otherVariantsSendNoForward() {
        ChaosRun.Result r = new ChaosRun(3, ChaosOptions.DEFAULT).withVariant(Variants.of("piggyback")).run();
        assertThat(r.counts()).doesNotContainKey("futex forwards");
        assertThat(r.passed()).isTrue();
    }

    @Test
    void directForwardsFutexesTheLinksLoseSomeAndEveryHistoryPasses() {
        long lost = 0;
        for (long seed = 1; seed <= 6; seed++) {
            ChaosRun.Result r = new ChaosRun(seed, ChaosOptions.DEFAULT).withVariant(Variants.of("direct")).run();
            assertThat(r.passed()).as("seed %d: %s %s", seed, r.violations(), r.stuck()).isTrue();
            assertThat(r.counts().getOrDefault("futex forwards", 0L)).isGreaterThan(100);
            lost += r.counts().getOrDefault("futex forwards lost on the link", 0L);
        }
        assertThat(lost).isPositive();
    }

    /**
     * The contended mix: a request for the futex's page withdraws the order while the holder's
     * release with a copy is on its way. These seeds lost the copy's target's acknowledged write
     * (no OWNER_DIED) while the page's operations ran inside the release, before the forward
     * settled (a death to record in the page lifted the gate, so the target was not made the
     * page's writer and its release's page was refused).
     */
    @Test
    void directContendedSeedsThatLostTheCopysTargetsWritePass() {
        for (long seed : new long[] {34, 53, 58}) {
            ChaosRun.Result r = new ChaosRun(seed, ChaosOptions.DEFAULT.withMix(ChaosMix.CONTENDED))
                    .withVariant(Variants.of("direct")).run();
            assertThat(r.passed()).as("seed %d: %s %s", seed, r.violations(), r.stuck()).isTrue();
            assertThat(r.counts().getOrDefault("futex forwards", 0L)).isGreaterThan(100);
        }
    }

    /**
     * Two pagers: a holder cut off from the futex's pager but not from the copy's target unlocks,
     * its copy reaches the target (which writes under it), its release is lost, and the pager
     * declares it dead. These seeds lost the target's acknowledged writes without OWNER_DIED: the
     * forget of the holder's pages lifted the gate before the forward settled, so the target was
     * not made the page's writer and its release's page was refused (the standard mix: 14, 32, 42,
     * 49, 58, 74 of 100; the contended mix: 3, 19, 46 of 50). Pager-level:
     * DirectHandoffHolderLeavesTest.
     */
    @Test
    void directWithTwoPagersSeedsThatLostTheCopysTargetsWritePass() {
        for (long seed : new long[] {14, 32, 42, 49, 58, 74}) {
            assertPasses(seed, ChaosOptions.DEFAULT, 2);
        }
        for (long seed : new long[] {3, 19, 46}) {
            assertPasses(seed, ChaosOptions.DEFAULT.withMix(ChaosMix.CONTENDED), 2);
        }
    }

    /**
     * Keeping the gate alone through the holder's departure (a first fix of the seeds above) lost
     * a write in this seed: the settle ran a waiting request at once, whose revoke reached the
     * target ahead of the grant that gave it the page. The request now goes on behind the grant.
     */
    @Test
    void directContendedSeedWhoseRevokeOvertookTheGrantPasses() {
        assertPasses(15, ChaosOptions.DEFAULT.withMix(ChaosMix.CONTENDED), 1);
    }

    /**
     * Two pagers, faults every 30 ms on average: the holder leaves without a release while the
     * copy's target is gone too. The settle ran the page's waiting operations before it raised the
     * futex's token to the forward's; a death's recording among them pruned the futex's record
     * with its old token, and the next grant was given the token the target may have used under
     * the copy ("acquired fX with fencing token N, not above N of kY"; review of direct2p, finding
     * 1). Pager-level: DirectHandoffTargetGoneTest.
     */
    @Test
    void directWithTwoPagersAndCloseFaultsSeedsThatGaveATokenTwicePass() {
        ChaosOptions d = ChaosOptions.DEFAULT;
        ChaosOptions closeFaults = new ChaosOptions(d.kernels(), d.threadsPerKernel(), d.futexes(), d.durationNanos(),
                d.leaseNanos(), d.latencyNanos(), d.jitterNanos(), 30_000_000L);
        for (long seed : new long[] {140, 293, 668, 896}) {
            assertPasses(seed, closeFaults, 2);
        }
    }

    private static void assertPasses(long seed, ChaosOptions options, int pagers) {
        ChaosRun.Result r = new ChaosRun(seed, options, pagers).withVariant(Variants.of("direct")).run();
        assertThat(r.passed()).as("seed %d (%d pagers): %s %s", seed, pagers, r.violations(), r.stuck()).isTrue();
        assertThat(r.counts().getOrDefault("futex forwards", 0L)).isGreaterThan(100);
    }
}
