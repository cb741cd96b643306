package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * xp-spec 2.4 and 9.3 at a pager in its grace period after a restart, probed by kernels written
 * from xp.proto and xp-spec alone: a new kernel that sends its requests right after its hello
 * gets nothing until grace ends, then the welcome first and every answer in order; a kernel that
 * reclaimed has its keepalives answered in grace meanwhile.
 */
class HelloInGraceProbeTest {
    private static final Duration LEASE = Duration.ofSeconds(2);

    @Test
    void aNewKernelsPipelinedRequestsWaitForGraceAndFollowItsWelcome(@TempDir Path store) throws Exception {
        PagerConfig config = PagerConfig.loopback(Map.of("obj", 16L * 4096)).withLease(LEASE).withStoreDir(store);
        try (Pager first = Pager.start(config)) {
            assertThat(first.status().getInGrace()).isFalse();
        }
        try (Pager pager = Pager.start(config);
                ProbeKernel fresh = new ProbeKernel(pager.target());
                ProbeKernel back = new ProbeKernel(pager.target())) {
            assertThat(pager.status().getInGrace()).isTrue();
            fresh.send(ProbeKernel.hello("fresh").build());
            fresh.send(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(1)
                    .setName("obj").setPageSize(4096)).build());
            fresh.send(ProbeKernel.lock(8));
            fresh.send(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(77))
                    .build());

            back.send(ProbeKernel.hello("back").setKernelHello(ProbeKernel.hello("back").getKernelHello().toBuilder()
                    .setReclaim(Reclaim.newBuilder().setKernelId(5))).build());
            assertThat(back.await(PagerToKernel::hasPagerWelcome).getPagerWelcome().getKernelId()).isEqualTo(5);
            assertThat(back.barrier()).isEmpty();
            assertThat(pager.status().getInGrace()).as("a reclaimed kernel's keepalive is answered in grace")
                    .isTrue();

            List<PagerToKernel> got = new ArrayList<>();
            PagerToKernel m;
            do {
                m = fresh.await(x -> true);
                got.add(m);
            } while (!m.hasPagerKeepalive());
            assertThat(pager.status().getInGrace()).isFalse();
            assertThat(got).hasSize(4);
            assertThat(got.get(0).getPagerWelcome().getKernelId()).as("the welcome first").isNotIn(0, 5);
            assertThat(got.get(1).hasMemoryObjectReady()).isTrue();
            assertThat(got.get(2).hasMemoryObjectFutexGranted()).isTrue();
            assertThat(got.get(3).getPagerKeepalive().getSequence()).isEqualTo(77);
        }
    }
}
