package io.machxp.client;

import static io.machxp.client.LinkedKernels.ipcAddress;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.ipc.link.LinkConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The IPC links' lease follows the pager's (review F3, leftover 2): a kernel welcomed with a pager
 * lease longer than its configured links' lease runs its links with the pager's lease plus the
 * margin, so that a pause the pager forgives does not end its IPC; a shorter pager lease leaves the
 * configured one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IpcLeaseOverPagerLeaseTest {
    @Test
    void aKernelsLinksLeaseIsLongerThanThePagerLeaseItWasWelcomedWith() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 4096L)).withLease(Duration.ofMillis(12_000)));
                Kernel a = Kernel.start(KernelConfig.loopback("A", pager.target())
                        .withIpc(new LinkConfig(1, new InetSocketAddress("127.0.0.1", 0), Map.of(), 7_000)));
                Kernel b = Kernel.start(KernelConfig.loopback("B", pager.target())
                        .withIpc(new LinkConfig(2, new InetSocketAddress("127.0.0.1", 0), Map.of(), 20_000)))) {
            a.ipcConnect(Map.of(2, ipcAddress(b)));
            b.ipcConnect(Map.of(1, ipcAddress(a)));
            assertThat(a.ipcLeaseMillis()).isEqualTo(12_000 + LinkConfig.PAGER_LEASE_MARGIN_MILLIS);
            assertThat(b.ipcLeaseMillis()).as("a configured lease longer than the pager's stays").isEqualTo(20_000);
        }
    }

    @Test
    void theRuleBetweenTheLeases() {
        assertThat(LinkConfig.leaseOver(7_000, 5_000)).isEqualTo(7_000);
        assertThat(LinkConfig.leaseOver(7_000, 0)).as("no pager lease").isEqualTo(7_000);
        assertThat(LinkConfig.leaseOver(7_000, 30_000)).isEqualTo(32_000);
    }
}
