package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import org.junit.jupiter.api.Test;

/**
 * Review F1 of f9 (xp-spec 9.7): an EAGAIN that no wait in the grace period changes is marked
 * final on the wire, so that a kernel stops on it at once and on no other EAGAIN. The pager gives
 * a reclaim such an EAGAIN for a TID prefix still carried for a dead kernel (2.9); a refusal a wait
 * changes (the budget of reclaims being assembled, ReclaimAssemblyTest) is not marked.
 */
class ReclaimFinalRefusalTest {
    private static final long LEASE = 1_000_000_000L;
    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 4).withGrace(LEASE));

    /** A reclaim by kernel {@code name} of id {@code id}, its TIDs of {@code prefix} (0: none stated). */
    private void reclaim(long session, String name, int id, int prefix, ReclaimedFutex... futexes) {
        KernelHello.Builder h = KernelHello.newBuilder().setKernelName(name).setProtocolVersion(1)
                .setReclaim(Reclaim.newBuilder().setKernelId(id).setBootNonce(id).setAttempt(1)
                        .addObjects(ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj")
                                .setPageSize(XpKernels.PAGE).addAllFutexes(java.util.List.of(futexes))));
        if (prefix != 0) {
            h.setTidPrefix(prefix);
        }
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(h));
    }

    @Test
    void aReclaimRefusedForADeadKernelsTidPrefixIsMarkedFinal() {
        reclaim(1, "d", 5, 0, ReclaimedFutex.newBuilder().setOffset(0).setFencingToken(3L << 32 | 1).build());
        assertThat(x.one(1).getPagerWelcome().getKernelId()).isEqualTo(5);
        // d gives the futex back with owner_died (its own thread ended owning it, xp-spec 8.7): the
        // word may carry d's TIDs, of prefix 5, until a next owner records the death, which nobody
        // can in grace (nothing is granted).
        x.xp(1, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setFencingToken(x.pager.fencingToken("obj", 0))
                .setOwnerDied(true)));
        x.terminate(1);
        x.pager.sessionClosed(1); // a clean end: d holds nothing, its prefix waits for the death's record
        assertThat(x.pager.inGrace()).isTrue();
        reclaim(2, "e", 6, 5);
        assertThat(x.ended.get(2L)).startsWith("EAGAIN").contains("TID prefix 5", "'d'", "'e'");
        assertThat(x.finals).as("no wait in grace clears it: marked final").contains(2L);
    }
}
