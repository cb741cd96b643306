package io.machxp.pager.page;

import static io.machxp.pager.page.FutexWords.OWNER_DIED;
import static io.machxp.pager.page.FutexWords.pageWithWord;
import static io.machxp.pager.page.FutexWords.wordAt;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import org.junit.jupiter.api.Test;

/**
 * A futex released keeping its page, nobody waiting, across a pager restart (xp-spec 8.7, 9.6;
 * limits.md "Not yet" before 2026-12-07): writer W (id 1) owns futex 0 and the pager's copy of its
 * page names W's thread; W takes the page writable again, its thread unlocks in W's copy, and W
 * gives the futex back without the page. Nobody waits, so the record is pruned; the mark on W's
 * session was in the crashed pager's memory only, and the release had removed the holders'
 * journal entry: the restarted pager knew nothing of the futex. If W did not come back, the page
 * reverted to the pager's copy and the next locker read W's dead thread in the word (ESRCH for
 * every locker, for ever); if W came back reclaiming the page, its later death left the word alike.
 * Now the journal entry names W until W gives the page up: a W that does not come back is a holder
 * that did not reclaim (its next owner is told owner_died, the word judged), and a W that reclaims
 * the page writable has the futex marked again.
 */
class ReleasedKeepingPageRestartTest {
    private static final long LEASE = 1_000_000_000L;
    private static final int W_TID = 1 << 20 | 3;
    private final MemoryPageStore disk = new MemoryPageStore();

    /** W releases futex 0 keeping page 0 writable, the pager's copy naming W's thread; then, if {@code giveUp}, returns the page unlocked. */
    private void releasedKeepingThePage(boolean giveUp) {
        XpKernels first = new XpKernels(disk, new PagerOptions(LEASE, 3));
        long w = first.kernel(1, "W");
        first.lockFutex(w, 0);
        assertThat(first.take(w)).anyMatch(PagerToKernel::hasMemoryObjectFutexGranted);
        first.write(w, 0);
        first.take(w);
        first.returnDirty(w, 0, pageWithWord(0, W_TID), false); // the pager's copy names W's thread
        first.write(w, 0); // W writes the page again: its thread's unlock stays in W's copy
        first.take(w);
        first.futexReleased(w, 0); // no pages, nobody waits: the record is pruned
        assertThat(first.take(w)).isEmpty();
        assertThat(first.pager.snapshot().getFutexesList()).isEmpty();
        if (giveUp) {
            first.returnDirty(w, 0, pageWithWord(0, 0), false); // W's copy, unlocked, is the pager's now
        }
        assertThat(first.stats.refused()).isZero();
        // the pager crashes: only the store is left
    }

    /** After grace, new kernel D locks the futex: its grant, and the word it reads with the page. */
    private static PagerToKernel lockedByD(XpKernels second) {
        long d = second.kernel(5, "D");
        second.lockFutex(d, 0);
        PagerToKernel grant = second.take(d).stream().filter(PagerToKernel::hasMemoryObjectFutexGranted).findFirst()
                .orElseThrow();
        return grant;
    }

    private static int wordDReads(XpKernels second) {
        second.write(5, 0);
        return wordAt(second.one(5).getMemoryObjectDataSupply().getData().toByteArray(), 0);
    }

    @Test
    void aWriterThatDoesNotComeBackHasItsReleasedWordJudged() {
        releasedKeepingThePage(false);
        XpKernels second = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        second.advance(2 * LEASE); // grace ends; W did not come back
        lockedByD(second);
        // as for a holder that did not reclaim: the pager recorded the death in its copy (so the grant need not say it)
        assertThat(wordDReads(second)).as("W's unlock was lost with its copy; the word named W's thread, which is no more")
                .isEqualTo(OWNER_DIED);
        assertThat(second.stats.refused()).isZero();
    }

    /** W gave the page up before the crash: its copy had the unlock, the journal entry went, nothing is told. */
    @Test
    void aWriterThatGaveThePageUpLeavesNothingBehind() {
        releasedKeepingThePage(true);
        XpKernels second = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        second.advance(2 * LEASE);
        assertThat(lockedByD(second).getMemoryObjectFutexGranted().getOwnerDied()).isFalse();
        assertThat(wordDReads(second)).isZero();
    }

    /** W reclaims the page writable (not the futex) and dies after grace: the futex is marked again and judged. */
    @Test
    void aWriterThatReclaimsThePageHasTheFutexMarkedAgain() {
        releasedKeepingThePage(false);
        XpKernels second = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        second.pager.sessionOpened(1);
        second.xp(1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("W")
                .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(1).addObjects(ReclaimedObject
                        .newBuilder().setObjectId(XpKernels.OBJ).setName("obj").setPageSize(XpKernels.PAGE)
                        .addPages(ReclaimedPage.newBuilder().setOffset(0).setAccess(VmProt.VM_PROT_READ_WRITE)
                                .setVersion(disk.version("obj", 0)))))));
        assertThat(second.take(1)).anyMatch(PagerToKernel::hasPagerWelcome);
        assertThat(second.pager.snapshot().getSessionsList()).anyMatch(s -> s.getReleasedWhileWritingCount() == 1);
        second.advanceHeard(LEASE, LEASE / 4, 1); // grace ends, W alive
        assertThat(second.pager.snapshot().getSessionsList()).anyMatch(s -> s.getReleasedWhileWritingCount() == 1);
        second.pager.sessionClosed(1);
        second.advance(2 * LEASE);
        assertThat(second.declaredDead).containsKey("W");
        lockedByD(second);
        assertThat(wordDReads(second)).as("W's copy, with its unlock, is lost: the word named W's thread")
                .isEqualTo(OWNER_DIED);
        assertThat(second.stats.refused()).isZero();
    }
}
