package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerDirectoryView;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * Which of two kernels with different pager directories (xp-spec 2.8) is refused: the kernels
 * that use an object here decide, not the first one connected. Found by the XP review (finding 5):
 * an "odd" kernel that connected first, using nothing here, locked out every correct kernel.
 */
class DirectoryUsersDecideTest {
    private static final long LEASE = 1_000_000_000L;
    /** The review's odd view: two pagers, this one 0, "obj" assigned to pager 1. */
    private static final PagerDirectoryView ODD = PagerDirectoryView.newBuilder().setPagerCount(2).setPagerIndex(0)
            .addAssignments("obj=1").build();
    /** The single-pager view every correct kernel states. */
    private static final PagerDirectoryView ONE = PagerDirectoryView.newBuilder().setPagerCount(1).setPagerIndex(0).build();

    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 3));

    private PagerToKernel hello(long session, String name, PagerDirectoryView view) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setDirectory(view)));
        return x.take(session).stream().findFirst().orElse(null);
    }

    private void init(long session) {
        x.xp(session, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(XpKernels.OBJ).setName("obj").setPageSize(XpKernels.PAGE)));
        assertThat(x.take(session)).extracting(PagerToKernel::getRoutineCase)
                .contains(PagerToKernel.RoutineCase.MEMORY_OBJECT_READY);
    }

    @Test
    void anOddKernelThatConnectedFirstLocksNobodyOutAndIsEndedWhenTheObjectIsUsed() {
        assertThat(hello(1, "odd", ODD).hasPagerWelcome()).isTrue();
        for (long s = 2; s <= 4; s++) {
            assertThat(hello(s, "good" + s, ONE).hasPagerWelcome()).as("good kernel %d", s).isTrue();
        }
        assertThat(x.ended).isEmpty();
        init(2); // good2 uses "obj" here now
        assertThat(x.ended.get(1L)).startsWith("EINVAL")
                .contains("kernel 'odd' was given another pager directory than kernel 'good2'");
        assertThat(x.ended).containsOnlyKeys(1L);
    }

    @Test
    void aKernelWhoseDirectorySendsAnObjectInUseHereElsewhereIsRefused() {
        assertThat(hello(1, "good", ONE).hasPagerWelcome()).isTrue();
        init(1);
        hello(2, "odd", ODD);
        assertThat(x.ended.get(2L)).startsWith("EINVAL")
                .contains("kernel 'odd' was given another pager directory than kernel 'good'")
                .contains("uses object 'obj' there");
        assertThat(x.ended).doesNotContainKey(1L);
    }
}
