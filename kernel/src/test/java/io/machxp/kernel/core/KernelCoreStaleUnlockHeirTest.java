package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An unlock's woken heir that leaves before it runs while the futex's page is elsewhere (here: its
 * page-in refused twice, memory_object_data_error, so its lock fails EIO and so does the page-in
 * that would pass the futex on): the word there still names the heir, who owns nothing. The next
 * page-in, whoever asks for it, passes the futex on as the unlock would have (FutexHeirs
 * .passOnStaleHeir), as Linux's FUTEX_UNLOCK_PI leaves a word nobody is split from: a later lock
 * gets it, the old heir's own lock is no EDEADLK and its unlock EPERM, nobody is boosted for it, a
 * waiter or a trylock elsewhere gets it, and the heir's death leaves no OWNER_DIED (review
 * heir-late10, HIGH-1).
 */
class KernelCoreStaleUnlockHeirTest {
    private static final long MS = 1_000_000L;

    private final CoreFixture k = new CoreFixture(true);
    private final MachThread high = k.thread(70);
    private final MachThread low = k.thread(20);
    private byte[] page;

    /**
     * high (70) owns the futex, low (20) waits; high unlocks inside its compute (low, which cannot
     * run, is the woken heir: low|WAITERS), and the page is taken away (RETURN_ALL + flush, the
     * futex still held here). low runs: its page-in is refused (its lock fails EIO), and so is the
     * page-in of its leaving. The page the pager got back is kept for a later supply.
     */
    private Answer<Acquired> heirLeftWithItsPageRefused() {
        k.acquireFromPager(high, k.base);
        Answer<Acquired> heirWaits = k.lockFull(low, k.base);
        k.computeThen(high, 10 * MS, () -> {
            k.unlock(high, k.base).value();
            k.env.drain();
            page = k.takePageBack();
        });
        k.env.advance(10 * MS);
        k.env.advance(1);
        assertThat(k.futex(k.base).heir).as("low is the woken heir").isNotNull();
        assertThat(k.env.drain()).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.dataError(0, "disk on fire");
        assertThat(heirWaits.error().errno()).isEqualTo(Errno.EIO);
        k.env.advance(1);
        assertThat(k.env.drain()).as("the heir's leaving faults the page in").anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.dataError(0, "disk on fire");
        k.env.advance(1);
        assertThat(k.baseWord()).as("still the heir's TID, elsewhere").isEqualTo((low.tid | FutexWord.WAITERS) & 0xffffffffL);
        return heirWaits;
    }

    /** The reviewer's case: a later lock gets the futex at its page-in; low's relock waits for it, unboosted. */
    @Test
    void aLaterLockGetsTheFutexAndTheOldHeirsRelockWaitsForItsOwner() {
        MachThread other = k.thread(30);
        heirLeftWithItsPageRefused();
        Answer<Acquired> later = k.lockFull(other, k.base);
        k.env.advance(1);
        assertThat(k.env.drain()).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        assertThat(low.effectivePriority).as("nobody boosts a thread that owns nothing").isEqualTo(20);
        k.supply(0, page);
        k.env.advance(10 * MS);
        assertThat(later.value().ownerDied()).isFalse();
        assertThat(k.baseWord()).isEqualTo(other.tid & 0xffffffffL);
        assertThat(k.env.traces).anyMatch(t -> t.startsWith("unlock-heir-left-passed-on"));
        Answer<Acquired> relock = k.lockFull(low, k.base);
        k.env.advance(10 * MS);
        assertThat(relock.answered()).as("no EDEADLK: it waits for other").isFalse();
        assertThat(low.effectivePriority).isEqualTo(20);
        assertThat(other.effectivePriority).as("low waits for other").isEqualTo(30);
        k.unlock(other, k.base).value();
        k.env.advance(10 * MS);
        assertThat(relock.value().ownerDied()).isFalse();
        assertThat(k.baseWord()).isEqualTo((low.tid | FutexWord.WAITERS) & 0xffffffffL);
    }

    /** low's own lock first: no EDEADLK, its page-in passes the futex on (free) and low takes it. */
    @Test
    void theOldHeirsOwnLockFaultsThePageInAndTakesTheFutex() {
        heirLeftWithItsPageRefused();
        Answer<Acquired> relock = k.lockFull(low, k.base);
        k.env.advance(1);
        assertThat(relock.answered()).as("not EDEADLK: the page first").isFalse();
        assertThat(k.env.drain()).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.supply(0, page);
        k.env.advance(10 * MS);
        assertThat(relock.value().ownerDied()).isFalse();
        assertThat(k.baseWord()).isEqualTo(low.tid & 0xffffffffL);
        k.unlock(low, k.base).value();
        assertThat(k.baseWord()).isEqualTo(FutexWord.FREE);
    }

    /** low's unlock: EPERM at once (it owns nothing), the word left for the next page-in. */
    @Test
    void theOldHeirsUnlockIsEperm() {
        heirLeftWithItsPageRefused();
        Answer<Void> unlock = k.unlock(low, k.base);
        assertThat(unlock.error().errno()).isEqualTo(Errno.EPERM);
    }

    /**
     * A waiter elsewhere (relinquish_futex at 25): the holder fetches the page, whose return
     * passes the futex on to that waiter (futex_released, FREE in the word) instead of holding it
     * for low's unlock, which never comes; low is not boosted meanwhile.
     */
    @Test
    void aWaiterElsewhereGetsTheFutexAtThePagesReturn() {
        heirLeftWithItsPageRefused();
        k.relinquish(0, 25);
        assertThat(low.effectivePriority).as("nobody boosts a thread that owns nothing").isEqualTo(20);
        assertThat(k.env.drain()).as("the page fetched for the word").anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.supply(0, page);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).anyMatch(m -> m.hasMemoryObjectFutexReleased() && m.getMemoryObjectFutexReleased().getHandoff());
        assertThat(FutexWord.isAbsent(k.futex(k.base).state())).isTrue();
        assertThat(k.read(k.base, 4).value()).as("free in the page").containsExactly(0, 0, 0, 0);
        Answer<Acquired> relock = k.lockFull(low, k.base);
        assertThat(relock.answered()).as("asked of the pager, no EDEADLK").isFalse();
        assertThat(k.env.drain()).anyMatch(KernelToPager::hasMemoryObjectLockFutex);
    }

    /** A trylock elsewhere above nobody: the answer waits for the page, whose return frees the futex for it. */
    @Test
    void aTrylockElsewhereGetsTheFutexAtThePagesReturn() {
        heirLeftWithItsPageRefused();
        k.relinquishTry(0, 10);
        List<KernelToPager> asked = k.env.drain();
        assertThat(asked).noneMatch(KernelToPager::hasMemoryObjectFutexHeld);
        assertThat(asked).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.supply(0, page);
        assertThat(k.env.drain()).anyMatch(KernelToPager::hasMemoryObjectFutexReleased);
        assertThat(FutexWord.isAbsent(k.futex(k.base).state())).isTrue();
    }

    /** low ends: it owned nothing, so the futex passes on free at the page's return, no OWNER_DIED for the next. */
    @Test
    void theOldHeirsEndLeavesNoOwnerDied() {
        MachThread other = k.thread(30);
        heirLeftWithItsPageRefused();
        k.terminate(low).value();
        k.env.advance(1);
        assertThat(k.env.drain()).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.supply(0, page);
        assertThat(k.baseWord()).isEqualTo(FutexWord.FREE);
        Answer<Acquired> later = k.lockFull(other, k.base);
        assertThat(later.value().ownerDied()).as("no owner died").isFalse();
    }

    /**
     * The kernel shuts down while the rewrite is still pending (the page still elsewhere), its
     * pager carrying stale_heir_tid: the futex goes back naming low, which owns nothing, and
     * without owner_died, so that the next grant has the word rewritten free (no EOWNERDEAD for
     * anyone: nobody owned it since the unlock, as on Linux). Review heir11 LOW-1; before, it went
     * back with owner_died.
     */
    @Test
    void aShutdownWithTheRewritePendingNamesTheStaleHeir() {
        k.pagerCarriesStaleHeirTid();
        heirLeftWithItsPageRefused();
        k.core.xp().shutdown();
        List<MemoryObjectFutexReleased> released = releasedAtShutdown();
        assertThat(released).hasSize(1);
        assertThat(released.get(0).getOwnerDied()).as("no owner died").isFalse();
        assertThat(released.get(0).getStaleHeirTid()).as("the word elsewhere names low, which owns nothing")
                .isEqualTo(low.tid);
    }

    /**
     * The same with a pager whose welcome did not say it carries stale_heir_tid (an older one):
     * owner_died, as before the field, so the next owner gets EOWNERDEAD rather than ESRCH for a TID
     * of no thread (xp-spec A.29).
     */
    @Test
    void aShutdownWithTheRewritePendingGivesItBackWithOwnerDiedToAnOlderPager() {
        heirLeftWithItsPageRefused();
        k.core.xp().shutdown();
        List<MemoryObjectFutexReleased> released = releasedAtShutdown();
        assertThat(released).hasSize(1);
        assertThat(released.get(0).getOwnerDied()).as("the word elsewhere still names low: owner_died, not ESRCH")
                .isTrue();
        assertThat(released.get(0).getStaleHeirTid()).isZero();
    }

    private List<MemoryObjectFutexReleased> releasedAtShutdown() {
        return k.env.drain().stream().filter(KernelToPager::hasMemoryObjectFutexReleased)
                .map(KernelToPager::getMemoryObjectFutexReleased).toList();
    }
}
