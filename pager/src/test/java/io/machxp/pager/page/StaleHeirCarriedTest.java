package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.OBJ;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.snapshot.PagerSnapshot;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * futex_released.stale_heir_tid (xp-spec 8.4, review heir11 LOW-1): a kernel shutting down while its
 * futex's word, in a page elsewhere, still names an unlock's woken heir that left before it ran
 * gives it back naming that TID, and no owner_died: nobody owns it. The pager carries the TID to
 * each next grant (not owner_died: no EOWNERDEAD for anyone) until a release of a holder no longer
 * names it (the holder rewrote the word); a kernel whose hello did not name "stale_heir_tid" gets
 * owner_died instead, as before the field. The record is not pruned meanwhile, and a snapshot keeps
 * it. Before, the pager dropped the field: the next grant said nothing and its owner got ESRCH.
 */
class StaleHeirCarriedTest {
    private static final String FEATURE = "stale_heir_tid";
    private static final int STALE = 1 << 20 | 7; // a thread of kernel a (id and TID prefix 1): a release names only its own (StaleHeirs)
    private final XpKernels k = new XpKernels(new MemoryPageStore());

    /** Session {@code a} holds futex 0 and gives it back naming STALE (its shutdown). */
    private void releasedNamingStale(long a) {
        k.lockFutex(a, 0);
        assertThat(k.one(a).hasMemoryObjectFutexGranted()).isTrue();
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(k.pager.fencingToken("obj", 0)).setStaleHeirTid(STALE)));
    }

    private MemoryObjectFutexGranted grantTo(long s) {
        k.lockFutex(s, 0);
        return k.one(s).getMemoryObjectFutexGranted();
    }

    @Test
    void theWelcomeSaysThePagerCarriesIt() {
        k.pager.sessionOpened(9);
        k.xp(9, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("w")
                .setProtocolVersion(1)));
        assertThat(k.take(9)).first().extracting(PagerToKernel::getPagerWelcome)
                .matches(w -> w.getCarriesStaleHeirTid());
    }

    @Test
    void theNextGrantsCarryTheTidUntilAReleaseNoLongerNamesIt() {
        long a = k.kernel(1, "a", FEATURE);
        long b = k.kernel(2, "b", FEATURE);
        long c = k.kernel(3, "c", FEATURE);
        releasedNamingStale(a);
        k.terminate(a);
        k.advance(1);
        MemoryObjectFutexGranted toB = grantTo(b);
        assertThat(toB.getStaleHeirTid()).as("carried to the next grant, the futex free meanwhile").isEqualTo(STALE);
        assertThat(toB.getOwnerDied()).as("nobody owned it: no EOWNERDEAD").isFalse();
        k.terminate(b); // left without a release (its word maybe not rewritten): the next grant names it again
        MemoryObjectFutexGranted toC = grantTo(c);
        assertThat(toC.getStaleHeirTid()).isEqualTo(STALE);
        assertThat(toC.getOwnerDied()).isFalse();
        k.futexReleased(c, 0); // c rewrote the word
        assertThat(grantTo(c).getStaleHeirTid()).as("no longer named").isZero();
        assertThat(k.pager.ownerDiedPending("obj", 0)).isFalse();
    }

    @Test
    void aKernelThatDidNotNameTheFeatureGetsOwnerDiedInstead() {
        long a = k.kernel(1, "a", FEATURE);
        long old = k.kernel(2, "old");
        releasedNamingStale(a);
        MemoryObjectFutexGranted toOld = grantTo(old);
        assertThat(toOld.getStaleHeirTid()).as("it would drop the field").isZero();
        assertThat(toOld.getOwnerDied()).as("EOWNERDEAD rather than ESRCH, as before the field").isTrue();
    }

    /** A queued kernel gets it at once, and a release with owner_died as well drops the TID (owner_died covers it). */
    @Test
    void aWaitingKernelGetsItAtTheReleaseAndOwnerDiedCoversIt() {
        long a = k.kernel(1, "a", FEATURE);
        long b = k.kernel(2, "b", FEATURE);
        k.lockFutex(a, 0);
        k.one(a);
        k.lockFutex(b, 0);
        assertThat(k.one(a).hasMemoryObjectRelinquishFutex()).isTrue();
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(k.pager.fencingToken("obj", 0)).setStaleHeirTid(STALE)));
        assertThat(k.one(b).getMemoryObjectFutexGranted().getStaleHeirTid()).isEqualTo(STALE);
        k.xp(b, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(k.pager.fencingToken("obj", 0)).setOwnerDied(true)
                .setStaleHeirTid(STALE)));
        MemoryObjectFutexGranted toA = grantTo(a);
        assertThat(toA.getOwnerDied()).isTrue();
        assertThat(toA.getStaleHeirTid()).isZero();
    }

    /**
     * The pager's copy names the stale heir (S returned the page before its shutdown's release), and
     * D, which wrote the page since, is declared dead: its copy is lost, and the pager corrects the
     * words of gone kernels' threads in its own copy before serving the page again. The stale heir
     * owned nothing: its word becomes 0, not OWNER_DIED (before: EOWNERDEAD for E's locker).
     */
    @Test
    void aRevertedCopyNamingTheStaleHeirIsCorrectedFreeNotOwnerDied() {
        long lease = 1_000_000_000L;
        XpKernels x = new XpKernels(new MemoryPageStore(), lease);
        long s = x.kernel(1, "S", FEATURE);
        long d = x.kernel(2, "D", FEATURE);
        long e = x.kernel(3, "E", FEATURE);
        long futex = 0x20;
        int heirOfS = 1 << 20 | 5; // S has kernel id 1
        FutexWords.ownedWithWordInPagersCopy(x, s, futex, FutexWords.WAITERS | heirOfS);
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(futex).setFencingToken(x.pager.fencingToken("obj", futex))
                .setStaleHeirTid(heirOfS)));
        x.terminate(s);
        x.pager.sessionClosed(s); // a clean end: its id rests, its prefix is a gone kernel's
        x.write(d, 0);
        x.take(d);
        x.pager.sessionClosed(d);
        x.advanceHeard(lease, lease / 2, e); // D declared dead holding the page writable
        assertThat(x.declaredDead).containsKey("D");
        x.lockFutex(e, futex);
        MemoryObjectFutexGranted toE = x.one(e).getMemoryObjectFutexGranted();
        assertThat(toE.getOwnerDied()).isFalse();
        x.write(e, 0);
        assertThat(FutexWords.wordAt(x.one(e).getMemoryObjectDataSupply().getData().toByteArray(), futex))
                .as("the stale heir owned nothing: free").isZero();
    }

    /** A replica restored from a snapshot taken while the futex is free carries it too. */
    @Test
    void aSnapshotKeepsIt() throws Exception {
        long a = k.kernel(1, "a", FEATURE);
        long b = k.kernel(2, "b", FEATURE);
        releasedNamingStale(a);
        PagerSnapshot snapshot = k.pager.snapshot();
        XpKernels r = new XpKernels(new MemoryPageStore());
        r.pager.restore(PagerSnapshot.parseFrom(snapshot.toByteArray()));
        assertThat(r.pager.snapshot()).isEqualTo(snapshot);
        r.lockFutex(b, 0);
        assertThat(r.one(b).getMemoryObjectFutexGranted().getStaleHeirTid()).isEqualTo(STALE);
    }
}
