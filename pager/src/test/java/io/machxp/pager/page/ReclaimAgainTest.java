package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A kernel whose reclaim the pager took loses the stream, perhaps before it read the welcome, and
 * reclaims again (xp-spec 9.4, "Again"): in the same grace period the new reclaim replaces the
 * broken session, as the kernel's complete account, under the same id.
 */
class ReclaimAgainTest {
    private static final long LEASE = 1_000_000_000L;
    private static final int PAGE = XpKernels.PAGE;
    private static final long OLD_TOKEN = 3L << 32 | 17;
    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 4).withGrace(LEASE));

    private static ReclaimedPage held(long offset, VmProt access) {
        return ReclaimedPage.newBuilder().setOffset(offset).setAccess(access).setVersion(0).build();
    }

    private static ReclaimedFutex futex(long offset) {
        return ReclaimedFutex.newBuilder().setOffset(offset).setFencingToken(OLD_TOKEN).build();
    }

    private void reclaim(long session, int id, List<ReclaimedFutex> futexes, ReclaimedPage... pages) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1)
                .setReclaim(Reclaim.newBuilder().setKernelId(id).addObjects(ReclaimedObject.newBuilder()
                        .setObjectId(XpKernels.OBJ).setName("obj").setPageSize(PAGE).addAllFutexes(futexes)
                        .addAllPages(Arrays.asList(pages))))));
    }

    private static List<PagerToKernel> of(List<PagerToKernel> got, PagerToKernel.RoutineCase routine) {
        return got.stream().filter(m -> m.getRoutineCase() == routine).toList();
    }

    /**
     * Taken again: the same id, a fresh session; the futex the new account no longer names is
     * released (its next owner is not told OWNER_DIED), the one it names stays the kernel's, and so
     * does its page. On the old code the retry was refused with EEXIST and the kernel had to stop.
     */
    @Test
    void aReclaimWhoseStreamBrokeIsTakenAgainAsTheCompleteAccount() {
        reclaim(1, 5, List.of(futex(0), futex(2 * PAGE)), held(0, VmProt.VM_PROT_READ_WRITE),
                held(PAGE, VmProt.VM_PROT_READ_WRITE));
        assertThat(x.one(1).getPagerWelcome().getKernelId()).isEqualTo(5);
        x.pager.sessionClosed(1); // the welcome is lost with the stream: broken, A keeps what it holds
        x.advance(LEASE / 4);
        reclaim(2, 5, List.of(futex(0)), held(0, VmProt.VM_PROT_READ_WRITE)); // 2*PAGE and PAGE given back since
        assertThat(x.ended).as("the reclaim again is taken").doesNotContainKey(2L);
        var welcome = x.one(2).getPagerWelcome();
        assertThat(welcome.getKernelId()).as("the id its TIDs carry").isEqualTo(5);
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("A");
        assertThat(x.pager.holderOf("obj", 2 * PAGE)).as("not named again: released").isNull();
        assertThat(x.pager.pageWriter("obj", 0)).isEqualTo("A");
        assertThat(x.pager.pageWriter("obj", PAGE)).as("not named again: dropped").isNull();

        // Grace ends with A alive on its new stream; B gets the released futex without OWNER_DIED,
        // and A, which holds futex 0, is asked to give it back.
        for (int i = 0; i < 3; i++) {
            x.advance(LEASE / 4);
            x.keepalive(2, 100 + i);
            x.take(2);
        }
        x.advance(LEASE / 4);
        x.keepalive(2, 200);
        x.take(2);
        assertThat(x.pager.inGrace()).isFalse();
        long b = x.kernel(3, "B");
        x.take(b);
        x.lockFutex(b, 2 * PAGE);
        var granted = of(x.take(b), PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED);
        assertThat(granted).hasSize(1);
        assertThat(granted.get(0).getMemoryObjectFutexGranted().getOwnerDied()).as("A gave it back").isFalse();
        x.lockFutex(b, 0);
        assertThat(of(x.take(2), PagerToKernel.RoutineCase.MEMORY_OBJECT_RELINQUISH_FUTEX)).as("A holds it").hasSize(1);
        assertThat(x.ended).doesNotContainKey(2L);
    }

    /** The pager has not seen the first stream end: EAGAIN (the kernel tries again), nothing changes. */
    @Test
    void aReclaimWhileTheFirstStreamIsStillOpenIsToldToTryAgain() {
        reclaim(1, 5, List.of(futex(0)));
        x.take(1);
        reclaim(2, 5, List.of(futex(0)));
        assertThat(x.ended.get(2L)).startsWith("EAGAIN");
        assertThat(x.ended).doesNotContainKey(1L);
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("A");
    }

    /** Another id: refused before the welcome (EINVAL); the broken session stays as it was. */
    @Test
    void aReclaimAgainUnderAnotherIdIsRefusedAndTheOldSessionStays() {
        reclaim(1, 5, List.of(futex(0)));
        x.take(1);
        x.pager.sessionClosed(1);
        reclaim(2, 6, List.of(futex(0)));
        assertThat(x.ended.get(2L)).startsWith("EINVAL").contains("kernel id 6");
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("A");
    }

    /** After grace there is nothing to reclaim again: ESTALE (the kernel stops, xp-spec 9.7). */
    @Test
    void aReclaimAgainAfterGraceIsStale() {
        reclaim(1, 5, List.of(futex(0)));
        x.take(1);
        x.advance(LEASE / 2);
        x.keepalive(1, 1);
        x.take(1);
        x.pager.sessionClosed(1);
        x.advance(LEASE / 2);
        assertThat(x.pager.inGrace()).isFalse();
        reclaim(2, 5, List.of(futex(0)));
        assertThat(x.ended.get(2L)).startsWith("ESTALE");
    }
}
