package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Chaos with a replicated pager in the simulator (docs/replicated-pager.md): the real replica code
 * on a modelled Raft log, its leader and followers crashing and cut off from each other beside the
 * kernels' own faults, and the same checker finds nothing. A few dozen seeds; `machxp chaos
 * --replicas 3 --seeds 2000` runs many more.
 */
class ReplicatedChaosTest {
    /** Runs seeds 1..{@code seeds} with {@code replicas} replicas; every one passes; returns the totals. */
    private static Map<String, Long> run(int replicas, int seeds) {
        Map<String, Long> totals = new TreeMap<>();
        for (long seed = 1; seed <= seeds; seed++) {
            ChaosRun.Result r = new ChaosRun(seed, ChaosOptions.DEFAULT, 1, replicas).run();
            assertThat(r.violations()).as("seed %d: %s", seed, r.counts()).isEmpty();
            assertThat(r.stuck()).as("seed %d: %s", seed, r.counts()).isEmpty();
            r.counts().forEach((k, v) -> totals.merge(k, v, Long::sum));
        }
        return totals;
    }

    @Test
    void threeReplicasLosingLeadersAndFollowersBreakNoRule() {
        Map<String, Long> totals = run(3, 12);
        assertThat(totals).as("every replica fault was injected, and kernels resumed at new leaders")
                .containsKeys("replica leader crashes", "replica follower crashes", "replica partitions, leader cut off",
                        "replica partitions, followers cut off", "sessions resumed");
        assertThat(totals).as("no kernel had to reclaim: the group forgot nothing").doesNotContainKey("kernels reclaimed");
        // rv58 INFO-1: the leaders batch as Ratis's do (AppendBatches), so these seeds go through it
        assertThat(totals.get("replica batch Raft entries")).as("batch entries").isPositive();
        assertThat(totals.get("replica Raft entries")).isLessThan(totals.get("replica entries appended"));
    }

    /**
     * The group with fewer futex records than futexes (xp-spec 8.2): kernels' requests for a new
     * futex wait parked in the replicated core's state while the leader asks idle futexes back,
     * across leader crashes and failovers, and go on; no rule broken, no waiter stuck.
     */
    @Test
    void threeReplicasAtTheFutexRecordsBoundBreakNoRule() {
        Map<String, Long> totals = new TreeMap<>();
        for (long seed = 1; seed <= 8; seed++) {
            ChaosRun.Result r = new ChaosRun(seed, ChaosOptions.DEFAULT.withFutexRecords(3), 1, 3).run();
            assertThat(r.violations()).as("seed %d: %s", seed, r.counts()).isEmpty();
            assertThat(r.stuck()).as("seed %d: %s", seed, r.counts()).isEmpty();
            r.counts().forEach((k, v) -> totals.merge(k, v, Long::sum));
        }
        assertThat(totals).containsKeys(ChaosRun.FUTEX_REQUESTS_PARKED, "replica leader crashes", "sessions resumed");
    }

    @Test
    void fiveReplicasBreakNoRule() {
        assertThat(run(5, 4)).containsKeys("replica leader crashes", "sessions resumed");
    }

    @Test
    void aSeedReplaysExactlyWithReplicas() {
        assertThat(new ChaosRun(3, ChaosOptions.DEFAULT, 1, 3).run().history().entries())
                .isEqualTo(new ChaosRun(3, ChaosOptions.DEFAULT, 1, 3).run().history().entries());
    }
}
