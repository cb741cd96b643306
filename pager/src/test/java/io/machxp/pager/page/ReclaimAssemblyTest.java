package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectReclaimContinue;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import org.junit.jupiter.api.Test;

/**
 * What a restarted pager keeps of reclaims being assembled in parts (xp-spec 9.4, "Parts"; review
 * F2, F3, F6): nothing once grace ends (ESTALE at once), nothing of a session whose stream ended
 * (its parts and the messages held for it go), no more than the futex and object limits allow
 * (EINVAL at the part that crosses them), and no more than 256 MiB for all kernels together (EAGAIN,
 * saying to retry).
 */
class ReclaimAssemblyTest {
    private static final long LEASE = 1_000_000_000L;
    private static final int PAGE = XpKernels.PAGE;
    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 4, 3).withGrace(LEASE));

    private static ReclaimedObject.Builder obj() {
        return ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj").setPageSize(PAGE);
    }

    /** Opens {@code session} with a hello whose reclaim (kernel id {@code id}) says more parts follow. */
    private void helloInParts(long session, String name, int id, ReclaimedObject.Builder first) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(2).setReclaim(Reclaim.newBuilder().setKernelId(id).setContinues(true)
                        .addObjects(first))));
    }

    private static KernelToPager.Builder part(ReclaimedObject.Builder o, boolean continues) {
        return KernelToPager.newBuilder().setMemoryObjectReclaimContinue(MemoryObjectReclaimContinue.newBuilder()
                .addObjects(o).setContinues(continues));
    }

    private int assembling() {
        return x.pager.recordCounts().get("reclaimBytesAssembling");
    }

    @Test
    void whenGraceEndsAReclaimStillBeingAssembledIsEndedWithEstaleAtOnce() {
        helloInParts(1, "A", 5, obj());
        x.xp(1, part(obj().addFutexes(ReclaimedFutex.newBuilder().setOffset(0).setFencingToken(3L << 32 | 1)), true));
        assertThat(assembling()).isPositive();
        x.advance(LEASE + 1);
        assertThat(x.pager.inGrace()).isFalse();
        assertThat(x.ended.get(1L)).as("ended at grace's end, not at a last part that never comes")
                .startsWith("ESTALE").contains("grace period").contains("before the reclaim's last part");
        assertThat(assembling()).isZero();
    }

    @Test
    void aClosedSessionsPartsAndHeldMessagesAreNotKeptUntilGraceEnds() {
        helloInParts(1, "A", 5, obj());
        x.pager.sessionOpened(2);
        x.xp(2, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("new")
                .setProtocolVersion(1))); // a new kernel: held until grace ends
        assertThat(assembling()).isPositive();
        assertThat(x.pager.recordCounts().get("heldInGrace")).isEqualTo(1);
        x.pager.sessionClosed(1);
        x.pager.sessionClosed(2);
        assertThat(assembling()).isZero();
        assertThat(x.pager.recordCounts().get("heldInGrace")).isZero();
        assertThat(x.pager.inGrace()).isTrue();
    }

    @Test
    void aReclaimNamingMoreFutexesThanASessionMayHoldIsRefusedAtThePartThatCrossesTheLimit() {
        helloInParts(1, "A", 5, obj().addFutexes(ReclaimedFutex.newBuilder().setOffset(0).setFencingToken(1)));
        x.xp(1, part(obj().addFutexes(ReclaimedFutex.newBuilder().setOffset(8).setFencingToken(2))
                .addFutexes(ReclaimedFutex.newBuilder().setOffset(16).setFencingToken(3)), true));
        assertThat(x.ended).doesNotContainKey(1L);
        x.xp(1, part(obj().addFutexes(ReclaimedFutex.newBuilder().setOffset(24).setFencingToken(4)), true));
        assertThat(x.ended.get(1L)).as("the fourth futex of a session that may hold 3, before any last part")
                .startsWith("EINVAL").contains("more than 3 futexes");
        assertThat(assembling()).isZero();
    }

    @Test
    void reclaimsBeingAssembledTogetherStayWithinTheirBudgetAndTheRefusedKernelIsToldToRetry() {
        ReclaimedObject.Builder big = obj();
        ByteString data = ByteString.copyFrom(new byte[PAGE]);
        for (int i = 0; i < 4; i++) {
            big.addPages(ReclaimedPage.newBuilder().setOffset((long) i * PAGE).setAccess(VmProt.VM_PROT_NONE)
                    .setVersion(1).setData(data));
        }
        // Parts of some 3.5 MB: the same four pages named again and again (a page named twice is
        // judged only at the last part, which never comes here).
        ReclaimedObject.Builder many = obj();
        for (int i = 0; i < 210; i++) {
            many.addAllPages(big.getPagesList());
        }
        KernelToPager p = part(many, true).build();
        int size = p.getSerializedSize();
        assertThat(size).isBetween(3 << 20, 4 << 20);
        int perKernel = (int) ((60L << 20) / size); // within a reclaim's 64 MiB
        for (long s = 1; s <= 4; s++) {
            helloInParts(s, "K" + s, (int) s, obj());
            for (int i = 0; i < perKernel; i++) {
                x.pager.onXp(s, p);
            }
            assertThat(x.ended).doesNotContainKey(s);
        }
        long before = assembling();
        helloInParts(5, "K5", 5, obj());
        for (int i = 0; i < perKernel && !x.ended.containsKey(5L); i++) {
            x.pager.onXp(5, p);
        }
        assertThat(x.ended.get(5L)).startsWith("EAGAIN").contains("256 MiB").contains("retry");
        assertThat(x.finals).as("a wait changes it: not marked final (xp-spec 9.7)").doesNotContain(5L);
        assertThat((long) assembling()).as("nothing of the fifth kept").isEqualTo(before)
                .isLessThanOrEqualTo(256L << 20);
    }

    @Test
    void aSecondStreamSendingAReclaimInPartsUnderTheSameNameIsRefusedAtItsFirstPart() {
        helloInParts(1, "A", 5, obj());
        long one = assembling();
        helloInParts(2, "A", 6, obj());
        assertThat(x.ended.get(2L)).startsWith("EEXIST").contains("another stream");
        assertThat((long) assembling()).as("nothing of the second kept").isEqualTo(one);
        assertThat(x.ended).doesNotContainKey(1L);
    }

    /** A reclaim in one message of kernel {@code name}, id {@code id}, with nothing in it: welcomed in grace. */
    private void reclaimWhole(long session, String name, int id) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(id).addObjects(obj()))));
        assertThat(x.ended).doesNotContainKey(session);
    }

    /**
     * The id's owner is checked at each part (task 3 of the reclaim-left brief): an id another kernel
     * reclaimed, before the first part or between two parts, ends the reclaim at the part that
     * comes next (EEXIST), nothing of it kept. Before, the parts were kept until the last.
     */
    @Test
    void aReclaimInPartsOfAnIdAnotherKernelReclaimedIsRefusedAtThePartThatFollows() {
        reclaimWhole(1, "X", 5);
        helloInParts(2, "K", 5, obj());
        assertThat(x.ended.get(2L)).startsWith("EEXIST").contains("kernel 'X' has reclaimed id 5");
        assertThat(assembling()).isZero();

        helloInParts(3, "L", 6, obj());
        assertThat(assembling()).isPositive();
        reclaimWhole(4, "Y", 6); // between two parts of L's
        x.xp(3, part(obj(), true));
        assertThat(x.ended.get(3L)).startsWith("EEXIST").contains("kernel 'Y' has reclaimed id 6");
        assertThat(assembling()).isZero();
    }

    /**
     * A futex the holders' journal gives another kernel is refused at the part that names it
     * (EINVAL), as the whole would be before its welcome. Before, only at the last part.
     */
    @Test
    void aPartNamingAFutexTheJournalGivesAnotherKernelIsRefusedAtThatPart() {
        MemoryPageStore disk = new MemoryPageStore();
        disk.holder("obj", 0, "X");
        XpKernels y = new XpKernels(disk, new PagerOptions(LEASE, 4, 3).withGrace(LEASE));
        y.pager.sessionOpened(1);
        y.xp(1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("K")
                .setProtocolVersion(2).setReclaim(Reclaim.newBuilder().setKernelId(5).setContinues(true)
                        .addObjects(obj()))));
        assertThat(y.ended).isEmpty();
        y.xp(1, part(obj().addFutexes(ReclaimedFutex.newBuilder().setOffset(0).setFencingToken(3L << 32 | 1)), true));
        assertThat(y.ended.get(1L)).startsWith("EINVAL").contains("granted to kernel");
        assertThat(y.pager.recordCounts().get("reclaimBytesAssembling")).isZero();
    }
}
