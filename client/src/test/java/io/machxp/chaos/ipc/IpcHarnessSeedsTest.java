package io.machxp.chaos.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.chaos.ChaosOptions;
import io.machxp.chaos.FaultBounds;
import io.machxp.chaos.ipc.IpcHistory.Entry;
import io.machxp.chaos.ipc.IpcHistory.Kind;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Seeds of `machxp chaos --ipc --kernels 4 --threads 6 --fault-gap-ms 7` that found gaps in the
 * harness, not in the kernel (docs/chaos.md; triage of seeds 7160 and 7177), replayed.
 */
class IpcHarnessSeedsTest {
    /** The batch's settings: 4 kernels, 6 clients each, 1 s of traffic, a fault every 7 ms on average. */
    static final ChaosOptions BUSY = new ChaosOptions(4, 6, 4, 1_000_000_000L, 20_000_000L, 50_000L, 1_000_000L,
            7_000_000L);

    /**
     * Seeds 7160 and 9010: two servers on two kernels send their ports' receive rights to each
     * other, each in a message to the other's port, while the first is still on its way: a cycle
     * no kernel sees (closed across kernels), ended at the hop bound with Mach's outcome, both
     * ports dead. The harness records it at the second send (ChaosServer.move,
     * IpcChaosRun.closesCycle); it did not, and its clients' DEAD_NAMEs were violations.
     */
    @Test
    void aCycleOfReceiveRightsInTransitKillsBothPorts() {
        for (long seed : new long[] {7160, 9010}) {
            IpcChaosRun.Result r = new IpcChaosRun(seed, BUSY).run();
            assertThat(r.violations()).as("seed %d", seed).isEmpty();
            List<Entry> cycle = r.history().entries().stream()
                    .filter(e -> e.kind() == Kind.PORT_DEAD && e.note().endsWith("(a cycle)")).toList();
            assertThat(cycle).as("seed %d: the cycle recorded", seed).hasSize(1);
            int other = (int) r.history().entries().stream()
                    .filter(e -> e.kind() == Kind.MOVE_SENT && e.port() == cycle.get(0).port()).reduce((a, b) -> b)
                    .orElseThrow().b();
            assertThat(r.history().entries()).as("seed %d: the port inside it dies with it", seed)
                    .anyMatch(e -> e.kind() == Kind.PORT_DEAD && e.port() == other
                            && e.note().equals("in a message to p" + cycle.get(0).port() + ", which died"));
        }
    }

    /**
     * Seed 7177: four pauses of k2 within 14.3 ms left it 1.1 ms of running time, and it lost its
     * pager session (every call of its tasks then failed with EIO). A kernel is no longer paused
     * while paused, nor within a lease after its last pause ended (IpcFaults, as ChaosFaults keeps
     * survivable faults apart).
     */
    @Test
    void pausesOfOneKernelNeverAddUpPastItsLease() {
        IpcChaosRun.Result r = new IpcChaosRun(7177, BUSY).run();
        assertThat(r.violations()).isEmpty();
        long recovery = FaultBounds.of(BUSY).recoveryNanos();
        Map<String, Long> quietFrom = new HashMap<>();
        int pauses = 0;
        for (Entry e : r.history().entries()) {
            if (e.kind() == Kind.KERNEL && e.note().equals("paused")) {
                assertThat(e.time()).as("%s paused at %d", e.who(), e.time())
                        .isGreaterThanOrEqualTo(quietFrom.getOrDefault(e.who(), Long.MIN_VALUE));
                quietFrom.put(e.who(), e.time() + e.a() + recovery);
                pauses++;
            }
        }
        assertThat(pauses).isGreaterThan(10);
    }
}
