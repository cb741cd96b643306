package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.OBJ;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * A stale heir a release named (xp-spec 8.4) that the pager settles itself (heirfix MED-1): once
 * the futex is free and no kernel holds its page writable, the pager writes 0 over a word that is
 * exactly that TID (OWNER_DIED not set) in its own copy and forgets the TID, so such records are
 * pruned; at the bound on records it takes the page back to do so.
 */
class StaleHeirSettledTest {
    private static final String FEATURE = "stale_heir_tid";
    private static final long LEASE = 1_000_000_000L;

    private static void releaseNaming(XpKernels x, long s, long futex, int tid) {
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(futex).setFencingToken(x.pager.fencingToken("obj", futex))
                .setStaleHeirTid(tid)));
    }

    /** The releaser gives its page back after the release: the word is freed in the pager's copy, no TID goes on. */
    @Test
    void theWordIsFreedOnceTheWriterGivesThePageBack() {
        MemoryPageStore store = new MemoryPageStore();
        XpKernels x = new XpKernels(store, LEASE);
        long s = x.kernel(1, "S", FEATURE);
        long b = x.kernel(2, "B", FEATURE);
        long futex = 0x20;
        int heir = 1 << 20 | 5;
        x.lockFutex(s, futex);
        assertThat(x.one(s).hasMemoryObjectFutexGranted()).isTrue();
        x.write(s, 0);
        x.take(s);
        releaseNaming(x, s, futex, heir); // its shutdown: the unlock's heir's thread is gone
        x.returnDirty(s, 0, FutexWords.pageWithWord(futex, FutexWords.WAITERS | heir), false);
        assertThat(FutexWords.wordAt(store.read("obj", 0), futex)).as("the pager's copy").isZero();
        assertThat(x.pager.recordCounts().get("futexes")).as("the record pruned").isZero();
        x.lockFutex(b, futex);
        MemoryObjectFutexGranted toB = x.one(b).getMemoryObjectFutexGranted();
        assertThat(toB.getStaleHeirTid()).isZero();
        assertThat(toB.getOwnerDied()).as("nobody owned it").isFalse();
    }

    /**
     * MED-1 with TIDs of the releaser's own prefix (which the pager accepts): the records it leaves
     * do not fill the bound for good; a later kernel's lock of a new futex is granted.
     */
    @Test
    void ownPrefixStaleRecordsAreSettledAtTheBound() {
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
                releaseNaming(x, bad, o, 1 << 20 | (int) (o / 4 + 1));
            }
        }
        x.terminate(bad);
        x.pager.sessionClosed(bad);
        long good = x.kernel(2, "good", FEATURE);
        x.lockFutex(good, offset);
        x.advanceHeard(10 * LEASE, LEASE / 4, good);
        assertThat(x.take(good)).as("a lock of a new futex at the bound").anyMatch(PagerToKernel::hasMemoryObjectFutexGranted);
    }
}
