package io.machxp.pager.page;

import static io.machxp.pager.page.FutexWords.OWNER_DIED;
import static io.machxp.pager.page.FutexWords.WAITERS;
import static io.machxp.pager.page.FutexWords.wordAt;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.snapshot.PagerSnapshot;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import org.junit.jupiter.api.Test;

/**
 * Chaos --mix contended seed 474's shape (xp-spec 8.7): kernel d (TID prefix 5) owns a futex, the
 * pager's copy of its page naming d's thread (with WAITERS: another kernel waited meanwhile); d
 * takes the page writable again, its thread unlocks in d's copy, and d gives the futex back
 * without the page while nobody waits, so the pager prunes the futex's record. Then d is declared
 * dead: its copy is lost and the page reverts to the pager's, which still names d's thread. The
 * revert judged only words with a futex record, so that word stayed, and every later locker got
 * ESRCH for a dead thread. Now a futex released by a kernel that keeps its page writable is marked
 * on its session until it gives the page up, and the revert judges that word too: OWNER_DIED.
 * Words of d's page that were never a futex's (TID-looking task data) stay as they are (xp-spec 2.5).
 */
class ReleasedFutexRevertTest {
    private static final long LEASE = 1_000_000_000L;
    private static final int D_TID = 5 << 20 | 1;
    private static final long FUTEX = 0;
    /** A word of the page no futex ever was at, carrying a TID of d's prefix (a task wrote it). */
    private static final long DATA = 0x40;

    /** A kernel whose primary is another pager: its hello states its TID prefix. */
    private static long secondary(XpKernels k, long session, String name, int prefix) {
        k.pager.sessionOpened(session);
        k.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setTidPrefix(prefix)));
        k.xp(session, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(XpKernels.OBJ).setName("obj").setPageSize(XpKernels.PAGE)));
        assertThat(k.take(session)).hasSize(2);
        return session;
    }

    /** The pager's copy of page 0 as kernel {@code s} reads it. */
    private static byte[] readPage(XpKernels k, long s) {
        k.read(s, 0);
        return k.one(s).getMemoryObjectDataSupply().getData().toByteArray();
    }

    /**
     * d owns the futex and returned the page naming its thread (WAITERS set, task data beside it),
     * then took the page writable again and released the futex without it, nobody waiting.
     */
    private static XpKernels releasedKeepingThePage(XpKernels k) {
        long d = secondary(k, 1, "d", 5);
        k.lockFutex(d, FUTEX);
        assertThat(k.one(d).hasMemoryObjectFutexGranted()).isTrue();
        k.write(d, 0);
        k.take(d);
        byte[] page = FutexWords.pageWithWord(FUTEX, WAITERS | D_TID);
        java.nio.ByteBuffer.wrap(page).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((int) DATA, D_TID);
        k.returnDirty(d, 0, page, false); // the pager's copy names d's thread
        k.write(d, 0); // d writes the page again: its unlock's write of the word stays in its copy
        k.take(d);
        k.futexReleased(d, FUTEX); // no pages, nobody waits: the record is pruned
        k.take(d);
        assertThat(k.pager.snapshot().getFutexesList()).as("the futex's record is pruned").isEmpty();
        return k;
    }

    /** d's lease runs out; b (prefix 7) then reads the page. */
    private static void dDiesThenTheWordIsRecorded(XpKernels k) {
        k.pager.sessionClosed(1);
        k.advance(2 * LEASE);
        assertThat(k.declaredDead).containsKey("d");
        long b = secondary(k, 3, "b", 7);
        byte[] page = readPage(k, b);
        assertThat(wordAt(page, FUTEX)).as("the reverted copy's word named dead d's thread: OWNER_DIED now")
                .isEqualTo(WAITERS | OWNER_DIED);
        assertThat(wordAt(page, DATA)).as("a word no futex was at stays as the task wrote it").isEqualTo(D_TID);
        assertThat(k.stats.refused()).isZero();
    }

    @Test
    void aFutexReleasedWithoutItsPageNobodyWaitingIsJudgedWhenItsWriterDies() {
        dDiesThenTheWordIsRecorded(releasedKeepingThePage(new XpKernels(new MemoryPageStore(), LEASE)));
    }

    /** The mark is in the session's snapshot image: a core restored after the release judges the word alike. */
    @Test
    void aCoreRestoredAfterTheReleaseJudgesTheWordAlike() throws Exception {
        XpKernels k = releasedKeepingThePage(new XpKernels(new MemoryPageStore(), LEASE));
        PagerSnapshot snapshot = k.pager.snapshot();
        XpKernels r = new XpKernels(new MemoryPageStore(), LEASE);
        r.pager.restore(PagerSnapshot.parseFrom(snapshot.toByteArray()));
        assertThat(r.pager.snapshot()).as("read back, written again").isEqualTo(snapshot);
        dDiesThenTheWordIsRecorded(r);
    }

    /** A snapshot written before the mark was kept (no released_while_writing) restores, as without marks. */
    @Test
    void aSnapshotWithoutTheMarkRestores() throws Exception {
        XpKernels k = releasedKeepingThePage(new XpKernels(new MemoryPageStore(), LEASE));
        PagerSnapshot.Builder old = k.pager.snapshot().toBuilder();
        old.getSessionsBuilderList().forEach(io.machxp.proto.snapshot.SessionImage.Builder::clearReleasedWhileWriting);
        XpKernels r = new XpKernels(new MemoryPageStore(), LEASE);
        r.pager.restore(PagerSnapshot.parseFrom(old.build().toByteArray()));
        assertThat(r.pager.snapshot()).isEqualTo(old.build());
    }

    /**
     * d returns the page's dirty data and keeps it writable (an msync): the pager's copy now has
     * d's unlock, so the mark goes (review deaths3 LOW-3: it stayed until d gave the page up), and
     * d's death later leaves the word as d returned it.
     */
    @Test
    void aKeptReturnOfThePageClearsTheMark() {
        XpKernels k = releasedKeepingThePage(new XpKernels(new MemoryPageStore(), LEASE));
        k.returnDirty(1, 0, FutexWords.pageWithWord(FUTEX, 0), true);
        assertThat(k.take(1)).isEmpty();
        assertThat(k.pager.snapshot().getSessionsList()).allMatch(s -> s.getReleasedWhileWritingCount() == 0);
        k.pager.sessionClosed(1);
        k.advance(2 * LEASE);
        assertThat(k.declaredDead).containsKey("d");
        long b = secondary(k, 3, "b", 7);
        assertThat(wordAt(readPage(k, b), FUTEX)).as("d's kept return had the unlock").isZero();
    }

    /** A kept return the pager does not take (stale: not newer than its copy) leaves the mark. */
    @Test
    void aStaleKeptReturnLeavesTheMark() {
        MemoryPageStore store = new MemoryPageStore();
        XpKernels k = releasedKeepingThePage(new XpKernels(store, LEASE));
        long version = store.version("obj", 0); // the pager's copy's: a return not newer is stale
        k.xp(1, KernelToPager.newBuilder().setMemoryObjectDataReturn(io.machxp.proto.xp.MemoryObjectDataReturn
                .newBuilder().setObjectId(XpKernels.OBJ).setOffset(0).setDirty(true).setKernelCopy(true)
                .setVersion(version).setData(com.google.protobuf.ByteString.copyFrom(FutexWords.pageWithWord(FUTEX, 0)))));
        k.take(1);
        assertThat(k.stats.refused()).as("the stale return is refused").isPositive();
        assertThat(k.pager.snapshot().getSessionsList()).anyMatch(s -> s.getReleasedWhileWritingCount() == 1);
        k.pager.sessionClosed(1);
        k.advance(2 * LEASE);
        long b = secondary(k, 3, "b", 7);
        assertThat(wordAt(readPage(k, b), FUTEX)).as("the mark judged the reverted word").isEqualTo(WAITERS | OWNER_DIED);
    }

    /** d gives the page up (its copy, the word unlocked, is the pager's): the mark goes, and the word stays 0. */
    @Test
    void theMarkGoesWhenTheWriterReturnsThePage() {
        XpKernels k = releasedKeepingThePage(new XpKernels(new MemoryPageStore(), LEASE));
        assertThat(k.pager.snapshot().getSessionsList()).anyMatch(s -> s.getReleasedWhileWritingCount() == 1);
        k.returnDirty(1, 0, FutexWords.pageWithWord(FUTEX, 0), false);
        assertThat(k.pager.snapshot().getSessionsList()).allMatch(s -> s.getReleasedWhileWritingCount() == 0);
        k.write(1, 0); // d writes the page again (holding something, it is declared dead, not just forgotten)
        k.take(1);
        k.pager.sessionClosed(1);
        k.advance(2 * LEASE);
        assertThat(k.declaredDead).containsKey("d");
        long b = secondary(k, 3, "b", 7);
        assertThat(wordAt(readPage(k, b), FUTEX)).as("d unlocked and returned the page").isZero();
    }
}
