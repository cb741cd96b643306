package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.variant.Variants;
import org.junit.jupiter.api.Test;

/**
 * The direct handoff (xp-spec 13) under chaos: futexes forwarded between kernels over links that
 * lose one forward in {@link ForwardDrops#ONE_IN}, with kernels crashing, pausing and cut off
 * mid-forward and pagers restarting; every history passes the checker and nobody waits forever.
 */
class DirectHandoffChaosTest {
    @Test
    void forwardsLostOrCutOffAreRecovered() {
        long forwards = 0;
        long lost = 0;
        for (long seed = 1; seed <= 20; seed++) {
            ChaosRun.Result r = new ChaosRun(seed, ChaosOptions.DEFAULT).withVariant(Variants.of("direct")).run();
            assertThat(r.violations()).as("seed %d: %s", seed, r.counts()).isEmpty();
            assertThat(r.stuck()).as("seed %d: %s", seed, r.counts()).isEmpty();
            forwards += r.counts().getOrDefault("futex forwards", 0L);
            lost += r.counts().getOrDefault("futex forwards lost on the link", 0L);
        }
        assertThat(forwards).as("futexes travel between kernels").isGreaterThan(1000);
        assertThat(lost).as("the links lose some, which the pager must cancel").isGreaterThan(10);
    }

    @Test
    void otherVariantsSendNoForward() {
        ChaosRun.Result r = new ChaosRun(3, ChaosOptions.DEFAULT).withVariant(Variants.of("piggyback")).run();
        assertThat(r.counts()).doesNotContainKey("futex forwards");
    }
}
