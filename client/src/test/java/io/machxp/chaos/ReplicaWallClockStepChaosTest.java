package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A replicated pager whose replicas' wall clocks step (NTP stepping a clock, date -s, a VM
 * restored) in the simulator: the group clock reads no wall clock (GroupClock), so the checker
 * finds nothing. With the leader's wall clock as the group clock (ratis review, finding 1) a step
 * of one lease forward ended every live session at once (99 of 100 seeds broke a rule), and one
 * back froze the group's leases.
 */
class ReplicaWallClockStepChaosTest {
    private static void passes(double leases, int seeds) {
        for (long seed = 1; seed <= seeds; seed++) {
            ChaosRun.Result r = new ChaosRun(seed, ChaosOptions.DEFAULT, 1, 3).withReplicaClockStep(leases).run();
            assertThat(r.violations()).as("seed %d, steps of %s L: %s", seed, leases, r.counts()).isEmpty();
            assertThat(r.stuck()).as("seed %d, steps of %s L: %s", seed, leases, r.counts()).isEmpty();
            assertThat(r.counts()).containsEntry("replica wall clock steps", 3L);
        }
    }

    @Test
    void aStepOfOneLeaseForwardBreaksNoRule() {
        passes(1, 4);
    }

    @Test
    void aStepOfTenLeasesBackBreaksNoRule() {
        passes(-10, 4);
    }
}
