package io.machxp.pager.page;

import static io.machxp.pager.page.FutexWords.OWNER_DIED;
import static io.machxp.pager.page.FutexWords.WAITERS;
import static io.machxp.pager.page.FutexWords.pageWithWord;
import static io.machxp.pager.page.FutexWords.wordAt;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import org.junit.jupiter.api.Test;

/**
 * Chaos --mix contended seeds 1304 and 7469 (xp-spec 8.7, 9.6): writer W (id 1) owns futex 0 and
 * the pager's copy of its page names W's thread (W returned the page while its thread held the
 * futex); W takes the page writable again, its thread unlocks in W's copy, and W gives the futex
 * to waiting G without the page. The pager marks that on W's session, so that W's death would
 * judge the word, and asks W for the page for G. The pager crashes before W answers: the mark goes
 * with its memory. G reclaims the futex as holder (its grant told no owner_died); W, cut off, does
 * not come back. At grace end the page reverts to the pager's copy, and G read W's dead thread in
 * the word: ESRCH for every locker, for ever. Now a futex reclaimed by a holder not told
 * owner_died has its word judged at grace end, on a page no kernel reclaimed: OWNER_DIED over a
 * TID of a kernel that did not come back. A word naming a kernel that came back, or a page a
 * kernel reclaimed (its copy may be newer than the pager's), is left as it is.
 */
class LostWriterUnlockRestartTest {
    private static final long LEASE = 1_000_000_000L;
    private static final int W_TID = 1 << 20 | 3;
    private static final int G_TID = 2 << 20 | 1;
    private final FailingStore disk = new FailingStore(0);

    /**
     * W (id 1) and G (id 2); the pager's copy of page 0 has {@code storedWord} at futex 0, which W
     * then gives to G while W keeps the page writable; G asks for the page, W does not answer.
     * Returns the token of G's grant.
     */
    private long releasedToGWhileWKeepsThePage(int storedWord) {
        XpKernels first = new XpKernels(disk, new PagerOptions(LEASE, 3));
        long w = first.kernel(1, "W");
        long g = first.kernel(2, "G");
        first.lockFutex(w, 0);
        assertThat(first.take(w)).anyMatch(PagerToKernel::hasMemoryObjectFutexGranted);
        first.write(w, 0);
        first.take(w);
        first.returnDirty(w, 0, pageWithWord(0, storedWord), false); // the pager's copy
        first.write(w, 0); // W writes the page again: its thread's unlock stays in W's copy
        first.take(w);
        first.lockFutex(g, 0); // G waits: W is asked to give the futex back
        first.take(w);
        first.futexReleased(w, 0); // without the page: marked on W's session
        PagerToKernel grant = first.take(g).stream().filter(PagerToKernel::hasMemoryObjectFutexGranted)
                .findFirst().orElseThrow();
        assertThat(grant.getMemoryObjectFutexGranted().getOwnerDied()).isFalse();
        first.write(g, 0); // the pager asks W for the page, and crashes before W answers
        return grant.getMemoryObjectFutexGranted().getFencingToken();
    }

    /** The restarted pager: G reclaims the futex (and {@code page}, if not null); grace ends; G asks for the page. */
    private int wordGReadsAfterGrace(long token, ReclaimedPage page) {
        XpKernels second = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        second.pager.sessionOpened(2);
        ReclaimedObject.Builder obj = ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj")
                .setPageSize(XpKernels.PAGE).addFutexes(ReclaimedFutex.newBuilder().setOffset(0).setFencingToken(token));
        if (page != null) {
            obj.addPages(page);
        }
        second.xp(2, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("G")
                .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(2).addObjects(obj))));
        assertThat(second.take(2)).anyMatch(PagerToKernel::hasPagerWelcome);
        second.advanceHeard(LEASE, LEASE / 4, 2); // grace ends; W did not come back
        assertThat(second.stats.refused()).isZero();
        if (page == null) {
            second.write(2, 0);
            return wordAt(second.one(2).getMemoryObjectDataSupply().getData().toByteArray(), 0);
        }
        return wordAt(disk.memory.read("obj", 0), 0);
    }

    @Test
    void theDeadWritersTidInTheWordOfAFutexItsGranteeReclaimedBecomesOwnerDied() {
        long token = releasedToGWhileWKeepsThePage(WAITERS | W_TID);
        assertThat(wordGReadsAfterGrace(token, null)).as("W's unlock was lost with its copy; its thread is no more")
                .isEqualTo(WAITERS | OWNER_DIED);
    }

    /** G's own thread in the word (it locked the futex before the page was taken from it): not a dead kernel's. */
    @Test
    void aWordNamingTheReclaimingHoldersThreadStays() {
        long token = releasedToGWhileWKeepsThePage(WAITERS | G_TID);
        assertThat(wordGReadsAfterGrace(token, null)).isEqualTo(WAITERS | G_TID);
    }

    /**
     * G reclaimed the page writable: its copy, not the pager's, is the page, so the pager's older
     * word is not judged (judging it gave false EOWNERDEADs in an earlier attempt).
     */
    @Test
    void aPageAKernelReclaimedIsLeft() {
        long token = releasedToGWhileWKeepsThePage(WAITERS | W_TID);
        assertThat(wordGReadsAfterGrace(token, ReclaimedPage.newBuilder().setOffset(0)
                .setAccess(VmProt.VM_PROT_READ_WRITE).setVersion(disk.memory.version("obj", 0)).build()))
                .isEqualTo(WAITERS | W_TID);
    }
}
