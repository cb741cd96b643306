package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.PAGE;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.pager.store.PageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import org.junit.jupiter.api.Test;

/**
 * A futex whose holder did not reclaim it goes on with owner_died (docs/xp-spec.md 9.6) even if
 * the pager restarts again before anyone is told: the death is in the holders' journal, not only
 * in the memory of the pager whose grace ended (review R5).
 */
class JournalDeathAcrossRestartsTest {
    private static final long LEASE = 1_000_000_000L;
    private final MemoryPageStore disk = new MemoryPageStore();

    private static PagerToKernel.RoutineCase granted() {
        return PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED;
    }

    private static io.machxp.proto.xp.MemoryObjectFutexGranted grantIn(XpKernels x, long s) {
        return x.take(s).stream().filter(m -> m.getRoutineCase() == granted()).findFirst().orElseThrow()
                .getMemoryObjectFutexGranted();
    }

    /**
     * The review's scenario: A holds futex 0 at epoch 3 and the pager crashes; at epoch 4 nobody
     * reclaims it, and A's new incarnation (same name) locks the futex at PAGE; the pager crashes
     * again; at epoch 5 A reclaims the futex at PAGE. Before, A's complete account erased the entry
     * "0: A" of epoch 3 as given back, and B's grant of futex 0 said nothing of the death.
     */
    @Test
    void aDeathNoOwnerWasToldOfOutlivesASecondRestart() {
        XpKernels first = new XpKernels(disk, new PagerOptions(LEASE, 3));
        long a = first.kernel(1, "A");
        first.lockFutex(a, 0);
        assertThat(grantIn(first, a).getOwnerDied()).isFalse();

        XpKernels second = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        second.advance(LEASE); // grace ends: nobody reclaimed futex 0
        assertThat(disk.holders()).as("the death is in the journal").anyMatch(h -> h.offset() == 0
                && h.kernel().equals(PageStore.DIED));
        long again = second.kernel(1, "A");
        second.lockFutex(again, PAGE);
        var held = grantIn(second, again);
        assertThat(held.getOwnerDied()).isFalse();

        XpKernels third = new XpKernels(disk, new PagerOptions(LEASE, 5).withGrace(LEASE));
        third.pager.sessionOpened(1);
        third.xp(1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(1).addObjects(
                        ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj").setPageSize(PAGE)
                                .addFutexes(ReclaimedFutex.newBuilder().setOffset(PAGE)
                                        .setFencingToken(held.getFencingToken()))))));
        assertThat(third.take(1).get(0).hasPagerWelcome()).isTrue();
        third.advance(LEASE);
        long b = third.kernel(2, "B");
        third.lockFutex(b, 0);
        assertThat(grantIn(third, b).getOwnerDied()).as("epoch 3's holder of futex 0 died with its writes").isTrue();
    }
}
