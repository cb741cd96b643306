package io.machxp.pager.net;

import static io.machxp.pager.net.ProbeKernel.reason;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.Resume;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A kernel whose stream stalled (its pager's host went away without a reset) resumes on new
 * connections until one is answered; when the answer comes from a pager that restarted on the
 * same store, that pager knows no such session and MUST refuse the resume at once, ESTALE (xp-spec
 * 4.7), also in its grace period (9.3): the kernel then reclaims what it holds, which it can only
 * do in grace. A resume held until grace ends would be refused only when a reclaim no longer can
 * be taken, and the kernel would lose everything it held. Written from xp.proto and xp-spec alone.
 */
class ResumeAfterRestartProbeTest {
    /** Long, so that the restarted pager's grace period outlasts the whole probe by far. */
    private static final Duration LEASE = Duration.ofSeconds(20);

    private static KernelToPager.Builder hello() {
        return KernelToPager.newBuilder().setKernelHello(ProbeKernel.hello("k").getKernelHello().toBuilder()
                .setResumable(true));
    }

    @Test
    void aResumeAtARestartedPagerIsRefusedAtOnceSoTheKernelStillReclaimsInGrace(@TempDir Path store)
            throws Exception {
        PagerConfig config = PagerConfig.loopback(Map.of("obj", 16L * 4096)).withLease(LEASE).withStoreDir(store);
        PagerWelcome w;
        long token;
        try (Pager before = Pager.start(config); ProbeKernel k = new ProbeKernel(before.target())) {
            assertThat(before.status().getInGrace()).as("a fresh store: no grace").isFalse();
            k.send(hello().build());
            w = k.await(PagerToKernel::hasPagerWelcome).getPagerWelcome();
            k.send(KernelToPager.newBuilder().setMemoryObjectInit(io.machxp.proto.xp.MemoryObjectInit.newBuilder()
                    .setObjectId(1).setName("obj").setPageSize(4096)).build());
            k.send(ProbeKernel.lock(8));
            token = k.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                    .getFencingToken();
            k.barrier(); // the grant is in the holders' journal
        }
        try (Pager after = Pager.start(config)) {
            assertThat(after.status().getInGrace()).as("a restart on the same store").isTrue();
            try (ProbeKernel resuming = new ProbeKernel(after.target())) {
                resuming.send(hello().setKernelHello(hello().getKernelHello().toBuilder().setResume(Resume.newBuilder()
                        .setKernelId(w.getKernelId()).setSessionToken(w.getSessionToken()).setReceived(3)
                        .setAttempt(1))).build());
                com.google.rpc.Status end = resuming.end.get(LEASE.toSeconds() * 3, TimeUnit.SECONDS);
                assertThat(after.status().getInGrace()).as("refused while a reclaim can still be taken").isTrue();
                assertThat(end.getCode()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION.value());
                assertThat(reason(end)).isEqualTo("ESTALE");
            }
            try (ProbeKernel reclaiming = new ProbeKernel(after.target())) {
                reclaiming.send(hello().setKernelHello(hello().getKernelHello().toBuilder().setReclaim(Reclaim
                        .newBuilder().setKernelId(w.getKernelId()).addObjects(ReclaimedObject.newBuilder()
                                .setObjectId(1).setName("obj").setPageSize(4096).addFutexes(ReclaimedFutex.newBuilder()
                                        .setOffset(8).setFencingToken(token))))).build());
                PagerWelcome again = reclaiming.await(PagerToKernel::hasPagerWelcome).getPagerWelcome();
                assertThat(again.getKernelId()).isEqualTo(w.getKernelId());
                assertThat(again.getSessionEpoch()).isGreaterThan(w.getSessionEpoch());
                reclaiming.barrier();
                assertThat(after.holderOf("obj", 8)).isEqualTo("k");
                assertThat(after.status().getInGrace()).isTrue();
            }
        }
    }
}
