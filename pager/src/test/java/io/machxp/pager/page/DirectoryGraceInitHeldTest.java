package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PagerDirectoryView;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * In a pager's grace period an init of an object nobody reclaimed waits for grace to end
 * (xp-spec 9.3, 2.8; dir3-review MED-1): the views of the kernels that have not reclaimed yet are
 * not back, so answered at once it could start a second copy of an object a correct kernel uses at
 * another pager. W's view sends "obj" here, C's to pager 1 (where C uses it). Before, W's init was
 * answered READY at once when W reclaimed first, and C's later reclaim noticed nothing.
 */
class DirectoryGraceInitHeldTest {
    private static final long LEASE = 1_000_000_000L;
    private static final PagerDirectoryView HERE = PagerDirectoryView.newBuilder().setPagerCount(1).setPagerIndex(0).build();
    private static final PagerDirectoryView ELSEWHERE = PagerDirectoryView.newBuilder().setPagerCount(2)
            .setPagerIndex(0).addAssignments("obj=1").build();
    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 4).withGrace(LEASE));

    private List<PagerToKernel> reclaim(long session, String name, int kernelId, PagerDirectoryView view, boolean obj) {
        Reclaim.Builder r = Reclaim.newBuilder().setKernelId(kernelId);
        if (obj) {
            r.addObjects(ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj")
                    .setPageSize(XpKernels.PAGE));
        }
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setDirectory(view).addFeatures("directory_disputes").setReclaim(r)));
        return x.take(session);
    }

    private List<PagerToKernel> init(long session) {
        x.xp(session, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                .setObjectId(XpKernels.OBJ).setName("obj").setPageSize(XpKernels.PAGE)));
        return x.take(session);
    }

    private void endGrace(long... sessions) {
        x.advanceHeard(LEASE + 1, LEASE / 4, sessions);
    }

    @Test
    void aWrongKernelsInitInGraceWaitsAndIsRefusedOnceTheCorrectKernelReclaimed() {
        assertThat(reclaim(1, "W", 1, HERE, false).get(0).hasPagerWelcome()).isTrue();
        assertThat(init(1)).as("W's init of an object nobody reclaimed waits for grace to end").isEmpty();
        assertThat(reclaim(2, "C", 2, ELSEWHERE, false).get(0).hasPagerWelcome()).isTrue();
        endGrace(1, 2);
        List<PagerToKernel> w = x.take(1);
        assertThat(w).hasSize(1);
        assertThat(w.get(0).hasMemoryObjectDestroy()).as("C's view is back: W's init is refused").isTrue();
        assertThat(w.get(0).getMemoryObjectDestroy().getReason()).contains("'C'");
        assertThat(x.ended).isEmpty();
    }

    @Test
    void aHeldInitIsAnsweredAtGraceEndWhenNoViewDisputesIt() {
        reclaim(1, "W", 1, HERE, false);
        assertThat(init(1)).isEmpty();
        endGrace(1);
        List<PagerToKernel> w = x.take(1);
        assertThat(w).hasSize(1);
        assertThat(w.get(0).hasMemoryObjectReady()).isTrue();
    }

    @Test
    void anInitOfAnObjectAKernelReclaimedIsAnsweredAtOnce() {
        reclaim(1, "A", 1, HERE, true);
        reclaim(2, "B", 2, HERE, false);
        List<PagerToKernel> b = init(2);
        assertThat(b).hasSize(1);
        assertThat(b.get(0).hasMemoryObjectReady()).as("A reclaimed obj: the state before the restart").isTrue();
    }

    @Test
    void aTerminateOfAHeldInitWaitsBehindIt() {
        reclaim(1, "W", 1, HERE, false);
        assertThat(init(1)).isEmpty();
        x.xp(1, KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder()
                .setObjectId(XpKernels.OBJ)));
        endGrace(1);
        assertThat(x.take(1).get(0).hasMemoryObjectReady()).isTrue();
        // the terminate came after the init: W no longer uses obj, so a kernel whose view sends it
        // elsewhere is told of no dispute (handled first, the terminate would have left W using it)
        x.pager.sessionOpened(3);
        x.xp(3, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("C")
                .setProtocolVersion(1).setDirectory(ELSEWHERE).addFeatures("directory_disputes")));
        PagerToKernel c = x.take(3).get(0);
        assertThat(c.hasPagerWelcome()).isTrue();
        assertThat(c.getPagerWelcome().getDisputesCount()).isZero();
    }
}
