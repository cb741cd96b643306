package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerDirectoryView;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import org.junit.jupiter.api.Test;

/**
 * Reclaims are not checked against the other kernels' views (xp-spec 2.8, dir2-review L4): after a
 * pager restart, a kernel whose hello does not name "directory_disputes" and whose view sends an
 * object elsewhere that another kernel reclaimed here first takes back its own objects all the
 * same; its view counts from then on (an init it disputes is refused). Before, the hello's check
 * ran first and ended its reclaim (EINVAL), taking back nothing.
 */
class DirectoryReclaimUncheckedTest {
    private static final long LEASE = 1_000_000_000L;
    private static final PagerDirectoryView HERE = PagerDirectoryView.newBuilder().setPagerCount(1).setPagerIndex(0).build();
    private static final PagerDirectoryView ELSEWHERE = PagerDirectoryView.newBuilder().setPagerCount(2)
            .setPagerIndex(0).addAssignments("obj=1").build();
    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 4).withGrace(LEASE));

    private PagerToKernel reclaim(long session, String name, int kernelId, PagerDirectoryView view, boolean obj) {
        Reclaim.Builder r = Reclaim.newBuilder().setKernelId(kernelId);
        if (obj) {
            r.addObjects(ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj")
                    .setPageSize(XpKernels.PAGE));
        }
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setDirectory(view).setReclaim(r)));
        var got = x.take(session);
        return got.isEmpty() ? null : got.get(0);
    }

    @Test
    void anOlderKernelsReclaimIsTakenBesideAnObjectInUseItsViewSendsElsewhere() {
        assertThat(reclaim(1, "A", 1, HERE, true).hasPagerWelcome()).isTrue();
        PagerToKernel b = reclaim(2, "B", 2, ELSEWHERE, false);
        assertThat(x.ended).as("B's reclaim is not checked").doesNotContainKey(2L);
        assertThat(b).isNotNull();
        assertThat(b.hasPagerWelcome()).isTrue();
        assertThat(b.getPagerWelcome().getDisputesCount()).isZero();
    }
}
