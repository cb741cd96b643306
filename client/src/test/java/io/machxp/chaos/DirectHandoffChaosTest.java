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
}
