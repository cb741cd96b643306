package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.task.Tids;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.ReclaimedFutex;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The grantee's side of futex_granted.stale_heir_tid (xp-spec 8.4): the last holder gave the futex
 * back while its word, in a page elsewhere, still named an unlock's woken heir that left before it
 * ran (a thread that owns nothing). Once the page is writable here the word naming that TID becomes
 * 0, as the unlock would have left it, so the next locker takes it without EOWNERDEAD (before the
 * field, the release said owner_died: EOWNERDEAD, xp-spec A.29) and without ESRCH. A word a task
 * wrote since stays; a grant given back before its page came passes the TID on (owner_died to a
 * pager that does not carry it); a reclaim names it. Review heir11 LOW-1.
 */
class KernelCoreGrantedStaleHeirTest {
    private static final int PAGE = CoreFixture.PAGE;
    /** A thread of kernel 2 that was woken as an unlock's heir there and left before it ran. */
    private static final int STALE = Tids.tid(2, 7);

    private static byte[] pageWithWord(int word) {
        byte[] p = new byte[PAGE];
        PageBytes.putInt(p, 0, word);
        return p;
    }

    /** t locks the futex at offset 0: lock_futex, the grant naming STALE, the page's request. */
    private Answer<Acquired> lockGrantedNamingStale(CoreFixture k, MachThread t) {
        Answer<Acquired> a = k.lockFull(t, k.base);
        assertThat(k.single().hasMemoryObjectLockFutex()).isTrue();
        k.grantNamingStaleHeir(0, STALE);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        assertThat(a.answered()).as("not before its page").isFalse();
        return a;
    }

    @Test
    void theWordNamingTheStaleHeirIsRewrittenFreeAndTheLockerTakesItWithoutOwnerDied() {
        CoreFixture k = new CoreFixture(true);
        MachThread t = k.thread();
        Answer<Acquired> a = lockGrantedNamingStale(k, t);
        k.supply(0, pageWithWord(STALE | FutexWord.WAITERS));
        assertThat(a.value().ownerDied()).as("nobody owned it since the unlock").isFalse();
        assertThat(k.baseWord()).isEqualTo(t.tid & 0xffffffffL);
        k.unlock(t, k.base).value();
        assertThat(k.baseWord()).isEqualTo(FutexWord.FREE);
    }

    /** A TID a task wrote over the word since (not the stale heir's) is the futex's word: ESRCH, as without the field. */
    @Test
    void anotherTidInTheWordStays() {
        CoreFixture k = new CoreFixture(true);
        MachThread t = k.thread();
        int written = Tids.tid(3, 9);
        Answer<Acquired> a = lockGrantedNamingStale(k, t);
        k.supply(0, pageWithWord(written));
        assertThat(a.error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(FutexWord.owner(k.baseWord())).as("left as the task wrote it").isEqualTo(written);
    }

    /** A word already free (the stale heir's kernel rewrote it after all) is taken as it is. */
    @Test
    void aFreeWordIsLeftAlone() {
        CoreFixture k = new CoreFixture(true);
        MachThread t = k.thread();
        Answer<Acquired> a = lockGrantedNamingStale(k, t);
        k.supply(0, pageWithWord(0));
        assertThat(a.value().ownerDied()).isFalse();
        assertThat(k.baseWord()).isEqualTo(t.tid & 0xffffffffL);
    }

    /**
     * Part II: the page is refused, the waiter fails, and the futex goes back at once, its word never
     * seen here: the release names STALE again (the pager carries it on), or says owner_died to a
     * pager whose welcome did not say it carries stale_heir_tid.
     */
    @Test
    void aGrantGivenBackBeforeItsPageCamePassesTheTidOn() {
        for (boolean carries : new boolean[] {true, false}) {
            CoreFixture k = new CoreFixture(false);
            if (carries) {
                k.pagerCarriesStaleHeirTid();
            }
            Answer<Acquired> a = lockGrantedNamingStale(k, k.thread());
            k.dataError(0, "disk on fire");
            assertThat(a.error().errno()).isEqualTo(Errno.EIO);
            List<MemoryObjectFutexReleased> released = k.env.drain().stream()
                    .filter(KernelToPager::hasMemoryObjectFutexReleased)
                    .map(KernelToPager::getMemoryObjectFutexReleased).toList();
            assertThat(released).as("carries=" + carries).hasSize(1);
            assertThat(released.get(0).getStaleHeirTid()).as("carries=" + carries).isEqualTo(carries ? STALE : 0);
            assertThat(released.get(0).getOwnerDied()).as("carries=" + carries).isEqualTo(!carries);
        }
    }

    /** The stream breaks before the page came: the reclaim names STALE with the futex. */
    @Test
    void aReclaimNamesTheStaleHeir() {
        CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, 1000);
        lockGrantedNamingStale(k, k.thread());
        k.core.xp().onStreamBroken(0, "connection reset");
        k.env.advance(50_000_000L);
        ReclaimedFutex f = k.env.drain().stream().filter(KernelToPager::hasKernelHello).findFirst().orElseThrow()
                .getKernelHello().getReclaim().getObjects(0).getFutexes(0);
        assertThat(f.getStaleHeirTid()).isEqualTo(STALE);
        assertThat(f.getOwnerDied()).isFalse();
    }
}
