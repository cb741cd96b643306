package io.machxp.chaos.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.chaos.ChaosOptions;
import org.junit.jupiter.api.Test;

/** IPC chaos runs on the real cores pass, and a run is a function of its seed. */
public class IpcChaosRunTest {
    /** Small runs: 300 ms of traffic, a fault every 30 ms on average. */
    public static final ChaosOptions SMALL = new ChaosOptions(3, 3, 1, 300_000_000L, 20_000_000L, 50_000L, 1_000_000L,
            30_000_000L);

    @Test
    void theRealCoresPassUnderEveryKindOfFault() {
        java.util.Map<String, Long> totals = new java.util.TreeMap<>();
        for (long seed = 1; seed <= 12; seed++) {
            IpcChaosRun.Result r = new IpcChaosRun(seed, SMALL).run();
            assertThat(r.violations()).as("seed %d", seed).isEmpty();
            r.counts().forEach((k, v) -> totals.merge(k, v, Long::sum));
            java.util.List<IpcHistory.Entry> entries = r.history().entries();
            java.util.Set<String> sent = new java.util.HashSet<>();
            java.util.Set<String> gone = new java.util.HashSet<>();
            for (IpcHistory.Entry e : entries) {
                if (e.kind() == IpcHistory.Kind.SENT) {
                    sent.add(e.who() + "/" + e.a());
                } else if (e.kind() == IpcHistory.Kind.GONE) {
                    gone.add(e.who());
                }
            }
            long delivered = entries.stream().filter(e -> e.kind() == IpcHistory.Kind.DELIVERED).count();
            assertThat(delivered).as("seed %d: messages delivered", seed).isGreaterThan(30);
            // Each message delivered was sent: its send returned, or its client died with the send on its way.
            assertThat(entries.stream().filter(e -> e.kind() == IpcHistory.Kind.DELIVERED)
                    .filter(e -> !sent.contains("c" + e.b() + "/" + e.a()) && !gone.contains("c" + e.b())).toList())
                    .as("seed %d: delivered, but no live client sent them", seed).isEmpty();
        }
        assertThat(totals).containsKeys("kernel crashes", "pauses", "renewals", "ports destroyed", "ports moved");
    }

    /**
     * Review 2's seed 98 at the defaults (`machxp chaos --ipc`): two messages sent from k0 towards a
     * port just arriving on k0 from k2 were lost when k2 renewed 0.6 ms later; the harness had not
     * marked those rights (IpcFaults.crosses; fails with the old one). Seeds 87, 238 and 265 found a
     * kernel bug (RenewThroughTheOriginsForwarderTest) but no longer reach it since renewals prefer
     * kernels a port moved off.
     */
    @Test
    void aMessageOnTheRenewedKernelsLinksTowardsAPortJustArrivedMayBeLost() {
        IpcChaosRun.Result r = new IpcChaosRun(98, ChaosOptions.DEFAULT).run();
        assertThat(r.violations()).isEmpty();
        assertThat(r.counts()).containsKeys("renewals", "ports moved");
    }

    @Test
    void aSeedReplaysEventForEvent() {
        IpcChaosRun.Result a = new IpcChaosRun(7, SMALL).run();
        IpcChaosRun.Result b = new IpcChaosRun(7, SMALL).run();
        assertThat(b.history().entries()).isEqualTo(a.history().entries());
    }
}
