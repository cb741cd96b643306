package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
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
 * A pager that restarted on the store of an earlier one: kernels reclaim what they hold in the
 * grace period, everything else waits for its end, and the store's page versions tell a return
 * lost in the crash from one the pager had taken.
 */
class RestartAndReclaimTest {
    private static final long LEASE = 1_000_000_000L;
    private static final int PAGE = XpKernels.PAGE;
    /** Tokens of the pager before the restart (epoch 3) and after it (epoch 4). */
    private static final long OLD_TOKEN = 3L << 32 | 17;
    private final MemoryPageStore store = new MemoryPageStore();
    private final XpKernels x = new XpKernels(store, new PagerOptions(LEASE, 4).withGrace(LEASE));

    private static byte[] page(int fill) {
        byte[] p = new byte[PAGE];
        Arrays.fill(p, (byte) fill);
        return p;
    }

    private static ReclaimedPage held(long offset, VmProt access, long version) {
        return ReclaimedPage.newBuilder().setOffset(offset).setAccess(access).setVersion(version).build();
    }

    private static ReclaimedPage returned(long offset, long version, byte[] data) {
        return ReclaimedPage.newBuilder().setOffset(offset).setAccess(VmProt.VM_PROT_NONE).setVersion(version)
                .setData(ByteString.copyFrom(data)).build();
    }

    private static ReclaimedFutex futex(long offset, long token) {
        return ReclaimedFutex.newBuilder().setOffset(offset).setFencingToken(token).build();
    }

    /** A kernel reconnects with what it holds of "obj" (object id 7), under kernel id {@code id}. */
    private void reclaim(long session, String name, int id, List<ReclaimedFutex> futexes, ReclaimedPage... pages) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1)
                .setReclaim(Reclaim.newBuilder().setKernelId(id).addObjects(ReclaimedObject.newBuilder()
                        .setObjectId(XpKernels.OBJ).setName("obj").setPageSize(PAGE).addAllFutexes(futexes)
                        .addAllPages(Arrays.asList(pages))))));
    }

    /** The grace period passes, the kernels of {@code sessions} keeping their leases. */
    private void graceEnds(long... sessions) {
        for (int i = 0; i < 4; i++) {
            x.advance(LEASE / 4);
            for (long s : sessions) {
                x.keepalive(s, 100 + i);
                x.take(s);
            }
        }
        assertThat(x.pager.inGrace()).isFalse();
    }

    private static List<PagerToKernel> of(List<PagerToKernel> got, PagerToKernel.RoutineCase routine) {
        return got.stream().filter(m -> m.getRoutineCase() == routine).toList();
    }

    /**
     * The pager records which kernel it granted a futex to (the holders' journal in its store): a
     * holder that does not reclaim it after a restart cannot have its writes taken, so the next
     * owner is told OWNER_DIED instead of getting the store's older page silently. A futex given
     * back before the crash is not.
     */
    @Test
    void aFutexWhoseHolderDidNotReclaimItGoesOnWithOwnerDied() {
        MemoryPageStore disk = new MemoryPageStore();
        XpKernels before = new XpKernels(disk, new PagerOptions(LEASE, 3));
        long a = before.kernel(1, "A");
        before.lockFutex(a, 0);
        before.lockFutex(a, PAGE);
        assertThat(of(before.take(a), PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED)).hasSize(2);
        before.futexReleased(a, PAGE); // given back before the crash: nothing is lost with it
        // The pager crashes; a new one starts on the same store. A never reclaims (it stopped).
        XpKernels after = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        after.pager.sessionOpened(2);
        after.xp(2, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("B")
                .setProtocolVersion(1)));
        after.xp(2, KernelToPager.newBuilder().setMemoryObjectInit(io.machxp.proto.xp.MemoryObjectInit.newBuilder()
                .setObjectId(XpKernels.OBJ).setName("obj").setPageSize(PAGE)));
        after.lockFutex(2, 0);
        after.lockFutex(2, PAGE);
        after.advance(LEASE);
        List<PagerToKernel> granted = of(after.take(2), PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED);
        assertThat(granted).hasSize(2);
        assertThat(granted.get(0).getMemoryObjectFutexGranted().getOffset()).isZero();
        assertThat(granted.get(0).getMemoryObjectFutexGranted().getOwnerDied()).as("A held it and did not reclaim")
                .isTrue();
        assertThat(granted.get(1).getMemoryObjectFutexGranted().getOwnerDied()).as("given back before the crash")
                .isFalse();
    }

    @Test
    void aReclaimedFutexStaysItsKernelsAndGoesOnWithAHigherTokenAfterGrace() {
        reclaim(1, "A", 5, List.of(futex(0, OLD_TOKEN)), held(0, VmProt.VM_PROT_READ_WRITE, 0));
        var welcome = x.one(1).getPagerWelcome();
        assertThat(welcome.getKernelId()).as("the id its TIDs carry").isEqualTo(5);
        assertThat(welcome.getSessionEpoch()).isEqualTo(4);
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("A");
        assertThat(x.pager.fencingToken("obj", 0)).isEqualTo(OLD_TOKEN);
        assertThat(x.pager.pageWriter("obj", 0)).isEqualTo("A");

        // A new kernel waits for the grace period to end, hello and all; A's keepalive does not.
        x.pager.sessionOpened(2);
        x.xp(2, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("B")
                .setProtocolVersion(1)));
        x.keepalive(1, 1);
        assertThat(x.one(1).hasPagerKeepalive()).isTrue();
        x.nothingTo(2);
        x.advance(LEASE / 2);
        x.nothingTo(2);
        x.keepalive(1, 2);
        x.take(1);
        x.advance(LEASE / 2);
        var b = x.take(2);
        assertThat(b.get(0).getPagerWelcome().getKernelId()).as("not an id a reclaim took").isEqualTo(1);
        assertThat(x.pager.inGrace()).isFalse();

        // B asks for A's futex: A is asked to give it back, and B gets it with the new epoch's token.
        x.xp(2, KernelToPager.newBuilder().setMemoryObjectInit(io.machxp.proto.xp.MemoryObjectInit.newBuilder()
                .setObjectId(XpKernels.OBJ).setName("obj").setPageSize(PAGE)));
        x.lockFutex(2, 0);
        assertThat(x.one(1).hasMemoryObjectRelinquishFutex()).isTrue();
        x.xp(1, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setFencingToken(OLD_TOKEN)));
        var granted = of(x.take(2), PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED);
        assertThat(granted).hasSize(1);
        assertThat(granted.get(0).getMemoryObjectFutexGranted().getFencingToken()).isEqualTo(4L << 32 | 1)
                .isGreaterThan(OLD_TOKEN);
        assertThat(x.stats.kernelsReclaimed()).isEqualTo(1);
        assertThat(x.stats.futexesReclaimed()).isEqualTo(1);
        assertThat(x.stats.refused()).isZero();
    }

    @Test
    void nothingIsGrantedInGraceAndHeldRequestsAreHandledInOrderWhenItEnds() {
        reclaim(1, "A", 1, List.of());
        reclaim(2, "C", 2, List.of(futex(4, OLD_TOKEN)));
        x.take(1);
        x.take(2);
        x.lockFutex(1, 0);  // free: would be granted at once outside grace
        x.lockFutex(1, 4);  // C's
        x.nothingTo(1, 2);
        assertThat(x.pager.holderOf("obj", 0)).isNull();
        x.advance(LEASE / 2);
        x.keepalive(2, 1);
        x.take(2);
        x.advance(LEASE / 2);
        assertThat(of(x.take(1), PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED)).hasSize(1);
        assertThat(x.one(2).hasMemoryObjectRelinquishFutex()).as("C is asked for its futex once grace ends").isTrue();
        assertThat(x.stats.heldInGrace()).isEqualTo(2);
    }

    @Test
    void returnedDataNewerThanTheStoreIsTakenAndOlderDataIsNot() {
        store.write("obj", 0, page(1), 3);     // the old pager took version 3 of page 0
        reclaim(1, "A", 1, List.of(),
                returned(0, 2, page(9)),           // an older return: the pager had it, and newer data since
                returned(PAGE, 1, page(5)),        // lost in the crash: the store never had it
                held(2L * PAGE, VmProt.VM_PROT_READ, 0));
        assertThat(store.read("obj", 0)).isEqualTo(page(1));
        assertThat(store.version("obj", 0)).isEqualTo(3);
        assertThat(store.read("obj", PAGE)).isEqualTo(page(5));
        assertThat(store.version("obj", PAGE)).isEqualTo(1);
        assertThat(x.pager.pageWriter("obj", PAGE)).as("given back: A does not hold it").isNull();
        assertThat(x.pager.pageReaders("obj", 2L * PAGE)).containsExactly("A");
    }

    /**
     * A read-only copy newer than the store, reclaimed without its data: that version was lost
     * (its return was neither written nor kept by a kernel, or the whole machine went down), and
     * other kernels are served the store's older page. Refused: the kernel drops it and reads the
     * page again. Before, it was made a reader of a page no other kernel could see. A writable copy
     * stays the writer's: it gives back the whole page when it leaves.
     */
    @Test
    void aReadOnlyCopyNewerThanTheStoreWithoutItsDataIsRefused() {
        store.write("obj", 0, page(1), 3);
        store.write("obj", PAGE, page(1), 3);
        reclaim(1, "A", 1, List.of(), held(0, VmProt.VM_PROT_READ, 4), held(PAGE, VmProt.VM_PROT_READ_WRITE, 4));
        List<PagerToKernel> a = x.take(1);
        assertThat(a.get(0).hasPagerWelcome()).isTrue();
        var discard = a.get(1).getMemoryObjectLockRequest();
        assertThat(discard.getOffset()).isZero();
        assertThat(discard.getShouldFlush()).isTrue();
        assertThat(x.pager.pageReaders("obj", 0)).isEmpty();
        assertThat(x.pager.pageWriter("obj", PAGE)).isEqualTo("A");
        assertThat(x.stats.refused()).isEqualTo(1);
    }

    @Test
    void aDirtyReturnNoNewerThanThePagersCopyIsRefusedAsStale() {
        reclaim(1, "A", 1, List.of(), held(0, VmProt.VM_PROT_READ_WRITE, 0));
        x.take(1);
        graceEnds(1);
        dirtyReturn(1, 0, page(7), 1);
        assertThat(store.version("obj", 0)).isEqualTo(1);
        // The same return again (as after a restart it was not known to have reached the pager).
        x.xp(1, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setData(ByteString.copyFrom(page(6))).setDirty(true)
                .setKernelCopy(true).setVersion(1)));
        assertThat(x.stats.refused()).isEqualTo(1);
        assertThat(store.read("obj", 0)).isEqualTo(page(7));
    }

    private void dirtyReturn(long s, long offset, byte[] data, long version) {
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(offset).setData(ByteString.copyFrom(data)).setDirty(true)
                .setKernelCopy(true).setVersion(version)));
    }

    @Test
    void aConflictingPageReclaimIsRefusedAndTheKernelIsToldToDropThePage() {
        reclaim(1, "A", 1, List.of(futex(0, OLD_TOKEN)), held(0, VmProt.VM_PROT_READ_WRITE, 0));
        reclaim(2, "B", 2, List.of(), held(0, VmProt.VM_PROT_READ, 0), held(PAGE, VmProt.VM_PROT_READ, 0));
        x.take(1);
        List<PagerToKernel> b = x.take(2);
        assertThat(b.get(0).hasPagerWelcome()).isTrue();
        var discard = b.get(1).getMemoryObjectLockRequest();
        assertThat(discard.getOffset()).isZero();
        assertThat(discard.getShouldFlush()).isTrue();
        assertThat(discard.getShouldReturnValue()).isZero();
        assertThat(x.pager.pageWriter("obj", 0)).isEqualTo("A");
        assertThat(x.pager.pageReaders("obj", 0)).isEmpty();
        assertThat(x.pager.pageReaders("obj", PAGE)).as("the page nobody else holds is B's").containsExactly("B");
        assertThat(x.stats.refused()).isEqualTo(1);
    }

    @Test
    void aKernelReclaimingAFutexAnotherReclaimedIsEnded() {
        reclaim(1, "A", 1, List.of(futex(0, OLD_TOKEN)));
        reclaim(2, "B", 2, List.of(futex(0, OLD_TOKEN)));
        assertThat(x.ended.get(2L)).startsWith("EINVAL").contains("kernel A holds it").contains("restart the kernel");
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("A");
        assertThat(x.pager.kernels()).containsExactly("A");
    }

    /**
     * Tokens count the grants of an object's futexes, so another futex of the object may have gone
     * further than this one: a futex released in grace (its record pruned) does not make the
     * reclaim of another one, under an older token, look stale (chaos seed 884, no-cache).
     */
    @Test
    void aFutexReleasedInGraceDoesNotMakeTheReclaimOfAnotherWithAnOlderTokenStale() {
        reclaim(1, "A", 1, List.of(futex(0, OLD_TOKEN + 3)));
        x.take(1);
        x.futexReleased(1, 0);
        reclaim(2, "B", 2, List.of(futex(8, OLD_TOKEN)));
        assertThat(x.ended).doesNotContainKey(2L);
        assertThat(x.pager.holderOf("obj", 8)).isEqualTo("B");
    }

    @Test
    void whatABrokenSessionAskedForInGraceIsDroppedWhenGraceEnds() {
        reclaim(1, "A", 1, List.of());
        reclaim(2, "C", 2, List.of(futex(8, OLD_TOKEN)));
        x.take(1);
        x.take(2);
        x.lockFutex(1, 0);
        x.write(1, PAGE);
        x.pager.sessionClosed(1); // A crashed in grace, holding nothing: forgotten
        x.lockFutex(2, 4);
        x.pager.sessionClosed(2); // C crashed in grace, holding a futex: broken until its lease ends
        x.advance(LEASE);
        assertThat(x.pager.holderOf("obj", 0)).as("not granted to a kernel that is gone").isNull();
        assertThat(x.pager.holderOf("obj", 4)).isNull();
        assertThat(x.pager.pageWriter("obj", PAGE)).isNull();
        assertThat(x.declaredDead).as("C's lease ran from its last message, not from the end of grace")
                .containsKey("C");
    }

    /**
     * A kernel that reclaimed and then fell silent in grace (cut off) is declared dead a lease
     * after it was last heard, not a lease after grace ends: what it sent before it stopped,
     * arriving late when the link heals, is fenced and keeps no dead kernel alive (chaos seed
     * 3019: such a kernel was granted a futex after it had stopped, and its next owner was told
     * OWNER_DIED later than any bound on the pager's lease allows).
     */
    @Test
    void aReclaimedKernelSilentInGraceIsDeclaredDeadALeaseAfterItWasLastHeard() {
        reclaim(1, "A", 1, List.of(futex(0, OLD_TOKEN)));
        reclaim(2, "B", 2, List.of());
        x.take(1);
        x.take(2);
        x.advance(LEASE / 4);
        x.lockFutex(1, PAGE);   // held in grace
        x.keepalive(1, 1);      // answered in grace; A is heard last now, then cut off
        x.take(1);
        for (int i = 0; i < 6; i++) { // B keeps its lease, past the end of grace (at LEASE)
            x.advance(LEASE / 5);
            x.keepalive(2, 1 + i);
            x.take(2);
        }
        assertThat(x.pager.inGrace()).isFalse();
        assertThat(of(x.take(1), PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED)).as("its lock held in grace")
                .hasSize(1);
        assertThat(x.declaredDead).as("A unheard for a lease since LEASE/4").containsEntry("A", List.of(0L, (long) PAGE));
        x.keepalive(1, 2);      // the link heals: what A sent before it stopped arrives
        x.lockFutex(1, 2L * PAGE);
        x.nothingTo(1);
        x.xp(2, KernelToPager.newBuilder().setMemoryObjectInit(io.machxp.proto.xp.MemoryObjectInit.newBuilder()
                .setObjectId(XpKernels.OBJ).setName("obj").setPageSize(PAGE)));
        x.lockFutex(2, 0);
        x.lockFutex(2, 2L * PAGE);
        List<PagerToKernel> granted = of(x.take(2), PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED);
        assertThat(granted).extracting(m -> m.getMemoryObjectFutexGranted().getOffset()).containsExactly(0L, 2L * PAGE);
        // A held futex 0 and nobody waited for it: since nobody held the page when A was declared
        // dead, the pager records the death in its copy of the word (xp-spec 8.7). A never had the
        // page writable, so no TID of A can be in the word or lost with its pages: the 0 word stays.
        assertThat(granted.get(0).getMemoryObjectFutexGranted().getOwnerDied()).as("recorded by the pager").isFalse();
        x.write(2, 0);
        PagerToKernel supply = x.one(2);
        byte[] data = supply.getMemoryObjectDataSupply().getData().toByteArray();
        assertThat(data.length == 0 ? 0 : java.nio.ByteBuffer.wrap(data).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .getInt(0)).as("A never had the page writable").isZero();
        assertThat(granted.get(1).getMemoryObjectFutexGranted().getOwnerDied()).as("A never had it").isFalse();
    }

    @Test
    void aPagerWhosePagesDidNotSurviveRefusesReclaimsButStillWaitsOutTheOldLeases() {
        XpKernels y = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 4).withGrace(LEASE, false));
        y.pager.sessionOpened(1);
        y.xp(1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1)
                .setReclaim(Reclaim.newBuilder().setKernelId(1))));
        assertThat(y.ended.get(1L)).startsWith("ESTALE").contains("takes no reclaims").doesNotContain("in memory");
        y.pager.sessionOpened(2);
        y.xp(2, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("B")
                .setProtocolVersion(1)));
        y.nothingTo(2);
        y.advance(LEASE);
        assertThat(y.take(2).get(0).hasPagerWelcome()).as("welcomed once the old leases have run out").isTrue();
    }

    @Test
    void aReclaimAfterGraceOrUnderATakenIdOrOfAnUnknownObjectEndsTheSession() {
        reclaim(1, "A", 3, List.of());
        reclaim(2, "B", 3, List.of());
        assertThat(x.ended.get(2L)).startsWith("EEXIST").contains("kernel 'A' has reclaimed id 3");
        x.pager.sessionOpened(3);
        x.xp(3, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("C")
                .setProtocolVersion(1)
                .setReclaim(Reclaim.newBuilder().setKernelId(4).addObjects(ReclaimedObject.newBuilder()
                        .setObjectId(1).setName("gone").setPageSize(PAGE)))));
        assertThat(x.ended.get(3L)).startsWith("EINVAL").contains("no longer serves memory object 'gone'");
        graceEnds(1);
        reclaim(4, "D", 5, List.of());
        assertThat(x.ended.get(4L)).startsWith("ESTALE").contains("grace period").contains("restart the kernel");
        assertThat(x.pager.kernels()).containsExactly("A");
    }

    @Test
    void aTokenTheOldPagerCannotHaveGivenEndsTheSession() {
        reclaim(1, "A", 1, List.of(futex(0, 4L << 32 | 9))); // this pager's epoch: from the future
        reclaim(2, "B", 2, List.of(futex(4, 0)));
        assertThat(x.ended.get(1L)).startsWith("EINVAL").contains("is not one an earlier pager gave");
        assertThat(x.ended.get(2L)).startsWith("EINVAL").contains("token 0");
        assertThat(x.pager.holderOf("obj", 0)).isNull();
        assertThat(x.pager.holderOf("obj", 4)).isNull();
    }
}
