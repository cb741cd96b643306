package io.machxp.conform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.pager.lib.XpPager;
import io.machxp.pager.store.FilePageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review indep-2 N2 over gRPC: machxp's kernel reclaims at a restarted pager, the welcome is lost
 * with the stream (a proxy drops it and cuts the stream), and the kernel reclaims again, which the
 * pager takes in the same grace period: the kernel goes on with what it held. On the old pager the
 * second reclaim was refused (EEXIST) and the kernel stopped using the pager.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ReclaimWelcomeLostOverGrpcTest {
    private static final int PAGE = 4096;

    private static PagerConfig config(int port) {
        return new PagerConfig("pager", "127.0.0.1", port, PAGE, Map.of("obj", 4L * PAGE))
                .withLease(Duration.ofSeconds(10));
    }

    /** Drops the first welcome that answers a reclaim and cuts its stream. */
    private static final class LoseFirstReclaimWelcome implements XpProxy.Plant {
        private final Set<XpProxy.Link> reclaims = ConcurrentHashMap.newKeySet();
        final AtomicBoolean lost = new AtomicBoolean();

        @Override
        public KernelToPager up(XpProxy.Link link, KernelToPager m) {
            if (m.hasKernelHello() && m.getKernelHello().hasReclaim()) {
                reclaims.add(link);
            }
            return m;
        }

        @Override
        public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
            if (m.hasPagerWelcome() && reclaims.contains(link) && lost.compareAndSet(false, true)) {
                link.cut();
                return null;
            }
            return m;
        }
    }

    @Test
    void aKernelWhoseReclaimWelcomeIsLostReclaimsAgainAndGoesOn() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("reclaim-welcome-lost");
        Pager first = XpPager.serve(new FilePageStore(dir, PAGE)).config(config(0)).start();
        int port = first.port();
        Pager[] second = new Pager[1];
        LoseFirstReclaimWelcome plant = new LoseFirstReclaimWelcome();
        try (XpProxy proxy = new XpProxy("127.0.0.1:" + port, plant);
                AutoCloseable pagers = () -> {
                    first.close();
                    if (second[0] != null) {
                        second[0].close();
                    }
                };
                Kernel kernel = Kernel.start(KernelConfig.loopback("A", proxy.target()));
                KernelClient client = KernelClient.connect("127.0.0.1:" + kernel.port())) {
            TaskClient task = client.taskCreate("writer");
            long base = task.vmMap("obj");
            task.writeLong(base + 24, 0x1234_5678_9abcL); // page 0 held writable, not yet given back

            first.close(); // the pager crashes; one starts again on its port and files, in grace
            second[0] = XpPager.serve(new FilePageStore(dir, PAGE)).config(config(port)).start();
            await().atMost(Duration.ofSeconds(30)).until(plant.lost::get);
            await().atMost(Duration.ofSeconds(30)).until(() -> second[0].kernels().contains("A"));

            assertThat(task.readLong(base + 24)).as("the page it held is still its own").isEqualTo(0x1234_5678_9abcL);
            task.writeLong(base + 2L * PAGE, 7); // a page it never held: asked of the pager, which serves it
            assertThat(task.readLong(base + 2L * PAGE)).isEqualTo(7);
        }
    }
}
