package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.OBJ;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The heirflag review's probes (MED-1, LOW-1, LOW-2), with controls; each failed before heirfix.
 */
class StaleHeirRecordsTest {
    private static final String FEATURE = "stale_heir_tid";
    private static final long LEASE = 1_000_000_000L;

    /**
     * MED: records kept for a stale_heir_tid are never pruned, shed, asked back or recorded. One kernel
     * under its own bound (4 here, 16 records in all) cycles lock/release naming arbitrary TIDs,
     * fills every record, and leaves; a later kernel's lock of a new futex then parks for ever.
     */
    @Test
    void staleHeirRecordsFillTheBoundAndALaterLockWaitsForEver() {
        fillAndLeave(true, false);
    }

    /** Control (passes): the same with owner_died instead (as before the field): the deaths are recorded at the bound. */
    @Test
    void controlOwnerDiedRecordsAreRecordedAtTheBound() {
        fillAndLeave(false, true);
    }

    /** Control (passes): plain releases. */
    @Test
    void controlPlainReleases() {
        fillAndLeave(false, false);
    }

    private void fillAndLeave(boolean stale, boolean ownerDied) {
        XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 1, 4));
        long bad = x.kernel(1, "bad", FEATURE);
        long offset = 0;
        for (int round = 0; round < 4; round++) {
            long first = offset;
            for (int i = 0; i < 4; i++, offset += 4) {
                x.lockFutex(bad, offset);
            }
            assertThat(x.take(bad)).hasSize(4).allMatch(PagerToKernel::hasMemoryObjectFutexGranted);
            for (long o = first; o < offset; o += 4) {
                x.xp(bad, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased
                        .newBuilder().setObjectId(OBJ).setOffset(o).setFencingToken(x.pager.fencingToken("obj", o))
                        .setStaleHeirTid(stale ? 0x1234 + (int) o : 0).setOwnerDied(ownerDied))); // any TID: nothing checks it
            }
        }
        if (stale) {
            assertThat(x.pager.recordCounts().get("futexes")).as("16 records kept by one kernel of bound 4").isEqualTo(16);
        }
        x.terminate(bad);
        x.pager.sessionClosed(bad);
        long good = x.kernel(2, "good", FEATURE);
        x.lockFutex(good, offset);
        x.advanceHeard(10 * LEASE, LEASE / 4, good);
        List<PagerToKernel> got = x.take(good);
        assertThat(got).as("a lock of a new futex, ten leases after the only other kernel left")
                .anyMatch(PagerToKernel::hasMemoryObjectFutexGranted);
    }

    /**
     * The pager takes any TID as stale_heir_tid, also one of another live kernel's prefix (here the
     * very kernel the grant goes to): it is carried as is. (Not a second owner by itself: a live
     * owner's kernel holds the futex, so it cannot be granted elsewhere; see the review.)
     */
    @Test
    void aTidOfAnotherLiveKernelsPrefixIsCarriedUnchecked() {
        XpKernels x = new XpKernels(new MemoryPageStore());
        long a = x.kernel(1, "a", FEATURE);
        long b = x.kernel(2, "b", FEATURE);
        int ofB = 2 << 20 | 1; // b's first thread
        x.lockFutex(a, 0);
        x.one(a);
        x.xp(a, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(x.pager.fencingToken("obj", 0)).setStaleHeirTid(ofB)));
        x.lockFutex(b, 0);
        MemoryObjectFutexGranted toB = x.one(b).getMemoryObjectFutexGranted();
        assertThat(toB.getStaleHeirTid()).as("a TID neither of the releaser's prefix nor carried to it").isNotEqualTo(ofB);
    }

    /**
     * LOW: the TID is kept on the record while its grantee holds the futex after rewriting the word,
     * and a release naming a stale heir no longer holds the releaser's id back, so a kernel of the
     * same name coming back gets the same id and its thread numbers (from 1) can reuse the stale TID.
     * S' (S back, same id) is granted the futex naming its old heir, rewrites the word, and its new
     * thread with that very TID locks it (written back to the pager's copy); D then writes the page.
     * S' and D are declared dead: the revert of D's copy takes the real owner's word for the stale
     * heir (0 instead of OWNER_DIED), the pager's recording finds 0 and no writer of the futex's
     * kernels, and E's grant says nothing: the death of an owner is lost (no EOWNERDEAD).
     */
    @Test
    void aReusedStaleTidThatReallyOwnedTheFutexKeepsItsDeath() {
        long lease = 1_000_000_000L;
        XpKernels x = new XpKernels(new MemoryPageStore(), lease);
        long s = x.kernel(1, "S", FEATURE);
        long d = x.kernel(2, "D", FEATURE);
        long e = x.kernel(3, "E", FEATURE);
        long futex = 0x20;
        int heirOfS = 1 << 20 | 5;
        FutexWords.ownedWithWordInPagersCopy(x, s, futex, FutexWords.WAITERS | heirOfS);
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(futex).setFencingToken(x.pager.fencingToken("obj", futex))
                .setStaleHeirTid(heirOfS)));
        x.terminate(s);
        x.pager.sessionClosed(s); // a clean end
        long s2 = 4;
        x.pager.sessionOpened(s2);
        x.xp(s2, KernelToPager.newBuilder().setKernelHello(io.machxp.proto.xp.KernelHello.newBuilder()
                .setKernelName("S").setProtocolVersion(1).addFeatures(FEATURE)));
        x.xp(s2, KernelToPager.newBuilder().setMemoryObjectInit(io.machxp.proto.xp.MemoryObjectInit.newBuilder()
                .setObjectId(OBJ).setName("obj").setPageSize(XpKernels.PAGE)));
        x.take(s2); // S back at once: the id is held back now (aStaleTidHoldsTheReleasersIdBack); before, id 1 again
        x.lockFutex(s2, futex);
        assertThat(x.one(s2).getMemoryObjectFutexGranted().getStaleHeirTid()).isEqualTo(heirOfS);
        x.write(s2, 0);
        x.take(s2);
        // S' rewrote the word to 0, then its new thread 5 (TID heirOfS again) locked it; the page goes back
        x.returnDirty(s2, 0, FutexWords.pageWithWord(futex, heirOfS), false);
        x.write(d, 0);
        x.take(d);
        x.pager.sessionClosed(s2);
        x.advanceHeard(lease, lease / 2, e, d); // S' declared dead holding the futex (its thread owning it)
        assertThat(x.declaredDead).containsKey("S");
        x.take(d);
        x.pager.sessionClosed(d);
        x.advanceHeard(lease, lease / 2, e); // then D, the page's writer
        x.lockFutex(e, futex);
        MemoryObjectFutexGranted toE = x.one(e).getMemoryObjectFutexGranted();
        x.write(e, 0);
        int word = FutexWords.wordAt(x.one(e).getMemoryObjectDataSupply().getData().toByteArray(), futex);
        assertThat(toE.getOwnerDied() || (word & FutexWords.OWNER_DIED) != 0)
                .as("S' thread owned the futex when S' died: E must learn of it (grant owner_died "
                        + toE.getOwnerDied() + ", word 0x" + Integer.toHexString(word) + ")").isTrue();
    }

    /**
     * LOW-1 (1): a release naming a stale heir of the releaser's own prefix holds its kernel id back
     * as an owner_died release does, so a kernel of the same name coming back at once does not get
     * the id again (its thread numbers start at 1: the stale TID would be reused).
     */
    @Test
    void aStaleTidHoldsTheReleasersIdBack() {
        XpKernels x = new XpKernels(new MemoryPageStore(), 1_000_000_000L);
        long s = x.kernel(1, "S", FEATURE);
        x.kernel(3, "E", FEATURE);
        long futex = 0x20;
        FutexWords.ownedWithWordInPagersCopy(x, s, futex, FutexWords.WAITERS | (1 << 20 | 5));
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(futex).setFencingToken(x.pager.fencingToken("obj", futex))
                .setStaleHeirTid(1 << 20 | 5)));
        x.terminate(s);
        x.pager.sessionClosed(s);
        x.pager.sessionOpened(4);
        x.xp(4, KernelToPager.newBuilder().setKernelHello(io.machxp.proto.xp.KernelHello.newBuilder()
                .setKernelName("S").setProtocolVersion(1).addFeatures(FEATURE)));
        assertThat(x.take(4).get(0).getPagerWelcome().getKernelId()).as("its stale TID may still be in the word")
                .isNotEqualTo(1);
    }

    /** Control (passes): with owner_died instead (before the field), S coming back gets another id: no TID reuse. */
    @Test
    void controlOwnerDiedHoldsTheIdBack() {
        XpKernels x = new XpKernels(new MemoryPageStore(), 1_000_000_000L);
        long s = x.kernel(1, "S", FEATURE);
        x.kernel(3, "E", FEATURE);
        long futex = 0x20;
        FutexWords.ownedWithWordInPagersCopy(x, s, futex, FutexWords.WAITERS | (1 << 20 | 5));
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(futex).setFencingToken(x.pager.fencingToken("obj", futex))
                .setOwnerDied(true)));
        x.terminate(s);
        x.pager.sessionClosed(s);
        x.pager.sessionOpened(4);
        x.xp(4, KernelToPager.newBuilder().setKernelHello(io.machxp.proto.xp.KernelHello.newBuilder()
                .setKernelName("S").setProtocolVersion(1).addFeatures(FEATURE)));
        assertThat(x.take(4).get(0).getPagerWelcome().getKernelId()).isNotEqualTo(1);
    }
}
