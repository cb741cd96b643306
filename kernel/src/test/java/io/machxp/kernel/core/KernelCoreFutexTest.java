package io.machxp.kernel.core;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_REQUEST;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_RETURN;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_UNLOCK;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_LOCK_COMPLETED;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_LOCK_FUTEX;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The futex cache of one kernel core (Parts II-IV), with the test playing the pager. */
class KernelCoreFutexTest {
    private final CoreFixture k = new CoreFixture(true);
    private final MachThread t1 = k.thread();
    private final MachThread t2 = k.thread();
    private final MachThread t3 = k.thread();

    /**
     * Part III: the first lock asks the pager for the futex, then pages its page in (a futex that
     * comes from another kernel usually brings the page); later local cycles send nothing.
     */
    @Test
    void firstLockAsksThePagerThenPagesInThenTheKernelKeepsTheFutex() {
        Answer<AcquirePath> first = k.lock(t1, k.base + 8);
        KernelToPager ask = k.single();
        assertThat(ask.getRoutineCase()).isEqualTo(MEMORY_OBJECT_LOCK_FUTEX);
        assertThat(ask.getMemoryObjectLockFutex().getOffset()).isEqualTo(8);
        assertThat(ask.getMemoryObjectLockFutex().getTry()).isFalse();
        assertThat(first.answered()).as("no futex before the grant").isFalse();
        k.grant(8);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        assertThat(first.answered()).as("no futex before its page").isFalse();
        k.zeroFill(0);
        assertThat(first.value()).isEqualTo(AcquirePath.PAGER_GRANT);
        assertThat(k.unlock(t1, k.base + 8).answered()).isTrue();

        for (int i = 0; i < 100; i++) {
            MachThread t = i % 2 == 0 ? t1 : t2;
            assertThat(k.lock(t, k.base + 8).value()).isEqualTo(AcquirePath.FAST_PATH);
            assertThat(k.unlock(t, k.base + 8).answered()).isTrue();
        }
        assertThat(k.env.sent).as("a cached futex costs no message").isEmpty();
    }

    /** A grant that brings the futex's page needs no page-in: one message each way. */
    @Test
    void aGrantWithItsPageIsUsedAtOnce() {
        Answer<AcquirePath> first = k.lock(t1, k.base + 8);
        assertThat(k.sentRoutines()).containsExactly(MEMORY_OBJECT_LOCK_FUTEX);
        k.grantWithPage(8);
        assertThat(first.value()).isEqualTo(AcquirePath.PAGER_GRANT);
        assertThat(FutexWord.word(k.futex(k.base + 8).state())).isEqualTo(t1.tid);
        assertThat(k.read(k.base + 8, 4).answered()).as("the page is here").isTrue();
        assertThat(k.env.sent).isEmpty();
    }

    /**
     * The futex word holds the owner's TID while held, WAITERS while someone waits and after a
     * handoff (also to the last waiter, as Linux's), 0 when free.
     */
    @Test
    void theFutexWordShowsOwnerAndWaiters() {
        k.acquireFromPager(t1, k.base);
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(t1.tid);
        Answer<AcquirePath> second = k.lock(t2, k.base);
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(t1.tid | FutexWord.WAITERS);
        k.unlock(t1, k.base).value();
        assertThat(second.value()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(t2.tid | FutexWord.WAITERS);
        k.unlock(t2, k.base).value();
        assertThat(FutexWord.word(k.futex(k.base).state())).isZero();
        assertThat(FutexWord.isAbsent(k.futex(k.base).state())).as("still cached").isFalse();
    }

    /** Local waiters get the futex in arrival order, handed over by the unlocking owner. */
    @Test
    void localWaitersAreServedInArrivalOrder() {
        k.acquireFromPager(t1, k.base);
        Answer<AcquirePath> w3 = k.lock(t3, k.base);
        Answer<AcquirePath> w2 = k.lock(t2, k.base);
        k.unlock(t1, k.base).value();
        assertThat(w3.value()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(w2.answered()).isFalse();
        k.unlock(t3, k.base).value();
        assertThat(w2.value()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(k.env.sent).isEmpty();
    }

    /** Part IV: relinquish of a cached futex nobody holds is answered at once. */
    @Test
    void relinquishOfAFreeCachedFutexIsAnsweredAtOnce() {
        k.acquireFromPager(t1, k.base);
        k.unlock(t1, k.base).value();
        k.relinquish(0);
        KernelToPager released = k.single();
        assertThat(released.getRoutineCase()).isEqualTo(MEMORY_OBJECT_FUTEX_RELEASED);
        assertThat(released.getMemoryObjectFutexReleased().getOffset()).isZero();
        assertThat(released.getMemoryObjectFutexReleased().getPagesList()).as("the futex takes its page along")
                .extracting(PageData::getOffset).containsExactly(0L);
        assertThat(FutexWord.isAbsent(k.futex(k.base).state())).isTrue();

        // The next local lock has to ask the pager again, and page in again.
        Answer<AcquirePath> again = k.lock(t2, k.base);
        assertThat(k.sentRoutines()).containsExactly(MEMORY_OBJECT_LOCK_FUTEX);
        k.grant(0);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).as("the page left with the futex").isZero();
        k.zeroFill(0);
        assertThat(again.value()).isEqualTo(AcquirePath.PAGER_GRANT);
    }

    /**
     * Part IV: relinquish of a held futex is answered when the holder unlocks, and the futex goes
     * back to the pager instead of to a local waiter that blocked after the relinquish came (the
     * waiter elsewhere came first), which asks again and gets it later.
     */
    @Test
    void relinquishWhileHeldIsAnsweredAfterTheUnlockAndBeforeALaterLocalWaiter() {
        k.acquireFromPager(t1, k.base);
        k.relinquish(0, t2.effectivePriority); // a waiter elsewhere, as high as the local one
        Answer<AcquirePath> local = k.lock(t2, k.base);
        assertThat(k.env.sent).as("nothing while the holder holds it").isEmpty();

        k.unlock(t1, k.base).value();
        assertReleasedAndAskedAgain();
        assertThat(local.answered()).as("the local waiter does not get it").isFalse();
        assertThat(FutexWord.isAbsent(k.futex(k.base).state())).isTrue();

        k.grantWithPage(0);
        assertThat(local.value()).isEqualTo(AcquirePath.PAGER_GRANT);
    }

    /**
     * A waiter elsewhere puts WAITERS in the word every kernel reads: when the holder's page is
     * only readable here (another kernel read it), the relinquish fetches it writable again.
     */
    @Test
    void aRemoteWaiterReachesTheWordWhenThePageIsOnlyReadableHere() {
        k.acquireFromPager(t1, k.base);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, false, VmProt.VM_PROT_WRITE, true);
        var returned = k.env.drain();
        assertThat(returned).extracting(KernelToPager::getRoutineCase).endsWith(MEMORY_OBJECT_LOCK_COMPLETED);
        k.relinquish(0);
        assertThat(k.single().getMemoryObjectDataUnlock().getDesiredAccess()).isEqualTo(VmProt.VM_PROT_WRITE);
        k.lockRequest(0, ReturnPolicy.RETURN_NONE, false, VmProt.VM_PROT_NONE, false);
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(t1.tid | FutexWord.WAITERS);

        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, false, VmProt.VM_PROT_WRITE, true);
        var data = k.env.drain().get(0).getMemoryObjectDataReturn().getData().asReadOnlyByteBuffer()
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertThat(data.getInt(0)).as("what another kernel reads").isEqualTo(t1.tid | FutexWord.WAITERS);
        k.unlock(t1, k.base);
    }

    /**
     * FIFO among equal priorities across kernels: a local waiter that blocked before the waiter
     * elsewhere (before its relinquish came) gets the futex first, here; the relinquish stays
     * pending, and the futex goes back at that waiter's unlock.
     */
    @Test
    void aLocalWaiterThatBlockedBeforeTheRelinquishIsServedFirst() {
        k.acquireFromPager(t1, k.base);
        Answer<AcquirePath> local = k.lock(t2, k.base);
        k.relinquish(0, t2.effectivePriority);
        k.unlock(t1, k.base).value();
        assertThat(local.value()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(k.env.sent).isEmpty();
        k.unlock(t2, k.base).value();
        var released = k.single().getMemoryObjectFutexReleased();
        assertThat(released.getHandoff()).isTrue();
    }

    /**
     * A higher priority elsewhere goes before local waiters of lower priority, whenever they
     * blocked; a higher priority here goes before it.
     */
    @Test
    void aHigherPriorityDecidesBeforeArrivalAcrossKernels() {
        MachThread low = k.thread(10);
        MachThread high = k.thread(60);
        k.acquireFromPager(t1, k.base);
        Answer<AcquirePath> wLow = k.lock(low, k.base);
        k.relinquish(0, 30);
        Answer<AcquirePath> wHigh = k.lock(high, k.base);
        k.unlock(t1, k.base).value();
        assertThat(wHigh.value()).as("60 here before 30 elsewhere").isEqualTo(AcquirePath.LOCAL_HANDOFF);
        k.unlock(high, k.base).value();
        assertThat(wLow.answered()).as("30 elsewhere before 10 here").isFalse();
        assertReleasedAndAskedAgain();
    }

    /** A relinquish that arrives just after a grant lets the local waiters that came before it in first (no livelock). */
    @Test
    void aGrantFollowedByRelinquishServesOneLocalWaiterFirst() {
        k.acquireFromPager(t1, k.base);
        k.relinquish(0, t2.effectivePriority);
        Answer<AcquirePath> w2 = k.lock(t2, k.base);
        Answer<AcquirePath> w3 = k.lock(t3, k.base);
        k.unlock(t1, k.base).value();
        assertReleasedAndAskedAgain();
        k.grantWithPage(0);
        k.relinquish(0, t2.effectivePriority);
        assertThat(w2.value()).isEqualTo(AcquirePath.PAGER_GRANT);
        assertThat(w3.answered()).isFalse();
        k.unlock(t2, k.base).value();
        assertThat(w3.value()).as("it blocked before this relinquish came").isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(k.env.sent).isEmpty();
        k.unlock(t3, k.base).value();
        assertThat(k.sentRoutines()).containsExactly(MEMORY_OBJECT_FUTEX_RELEASED);
    }

    /** Part II only: every unlock gives the futex back and every lock asks for it. */
    @Test
    void withoutTheCacheEveryLockAndUnlockGoesToThePager() {
        CoreFixture p2 = new CoreFixture(false);
        MachThread a = p2.thread();
        p2.acquireFromPager(a, p2.base);
        p2.unlock(a, p2.base).value();
        assertThat(p2.sentRoutines()).containsExactly(MEMORY_OBJECT_FUTEX_RELEASED);
        Answer<AcquirePath> again = p2.lock(a, p2.base);
        assertThat(p2.sentRoutines()).containsExactly(MEMORY_OBJECT_LOCK_FUTEX);
        p2.grant(0);
        assertThat(again.value()).isEqualTo(AcquirePath.PAGER_GRANT);
    }

    /**
     * Part II: a futex was released here, its page kept writable; a new thread's vm_lock_futex
     * (timeout 1 ms) asks the pager for the futex first (no page-in: the page is here), and the
     * pager then takes write access to the page away before it grants.
     */
    private static Answer<AcquirePath> lockThenLosePageWrite(CoreFixture p2) {
        MachThread first = p2.thread();
        p2.acquireFromPager(first, p2.base);
        p2.unlock(first, p2.base).value();
        assertThat(p2.sentRoutines()).as("Part II: back at unlock, its page stays").endsWith(MEMORY_OBJECT_FUTEX_RELEASED);
        Answer<AcquirePath> lock = p2.lock(p2.thread(), p2.base, 1_000_000);
        assertThat(p2.sentRoutines()).containsExactly(MEMORY_OBJECT_LOCK_FUTEX);
        p2.lockRequest(0, ReturnPolicy.RETURN_ALL, false, VmProt.VM_PROT_WRITE, true);
        assertThat(p2.sentRoutines()).containsExactly(MEMORY_OBJECT_DATA_RETURN, MEMORY_OBJECT_LOCK_COMPLETED);
        return lock;
    }

    /**
     * A grant that came without its writable page, for a waiter that then timed out, while another
     * kernel waits (relinquish): the next thread to get the page serves the grant first, which
     * gives the futex back, and then asks for it like any other (found by KernelCoreFuzzTest: the
     * lock took the grant for one still waiting for its page, and threw).
     */
    @Test
    void aGrantWhoseWaiterLeftBeforeThePageIsGivenBackByTheNextLock() {
        CoreFixture p2 = new CoreFixture(false);
        Answer<AcquirePath> first = lockThenLosePageWrite(p2);
        p2.grant(0);
        assertThat(p2.sentRoutines()).as("the grant waits for write access to its page").containsExactly(MEMORY_OBJECT_DATA_UNLOCK);
        p2.relinquish(0);
        MachThread b = p2.thread();
        Answer<AcquirePath> second = p2.trylock(b, p2.base);
        p2.env.advance(1_000_000);
        assertThat(first.error().errno()).isEqualTo(Errno.ETIMEDOUT);
        assertThat(p2.env.sent).as("the grant's page is still on its way").isEmpty();

        p2.lockRequest(0, ReturnPolicy.RETURN_NONE, false, VmProt.VM_PROT_NONE, false);
        List<KernelToPager> sent = p2.env.drain();
        assertThat(sent).extracting(KernelToPager::getRoutineCase)
                .containsExactly(MEMORY_OBJECT_FUTEX_RELEASED, MEMORY_OBJECT_LOCK_FUTEX);
        assertThat(sent.get(1).getMemoryObjectLockFutex().getTry()).isTrue();
        assertThat(FutexWord.isAbsent(p2.futex(p2.base).state())).isTrue();
        p2.busy(0);
        assertThat(second.value()).as("busy elsewhere: not acquired").isNull();
    }

    /**
     * Part II: a grant whose only waiter timed out before the page came is given back when the
     * page comes, not kept as a cached futex would be.
     */
    @Test
    void withoutTheCacheAGrantWhoseWaiterLeftIsGivenBackWhenItsPageComes() {
        CoreFixture p2 = new CoreFixture(false);
        Answer<AcquirePath> first = lockThenLosePageWrite(p2);
        p2.grant(0);
        assertThat(p2.sentRoutines()).containsExactly(MEMORY_OBJECT_DATA_UNLOCK);
        p2.env.advance(1_000_000);
        assertThat(first.error().errno()).isEqualTo(Errno.ETIMEDOUT);

        p2.lockRequest(0, ReturnPolicy.RETURN_NONE, false, VmProt.VM_PROT_NONE, false);
        assertThat(p2.sentRoutines()).containsExactly(MEMORY_OBJECT_FUTEX_RELEASED);
        assertThat(FutexWord.isAbsent(p2.futex(p2.base).state())).isTrue();
    }

    /**
     * Trylock: at once on a cached futex; through a `try` lock_futex when not cached, which costs
     * no page-in when the futex is busy elsewhere.
     */
    @Test
    void trylockNeverWaitsForAnOwner() {
        Answer<AcquirePath> first = k.trylock(t1, k.base);
        KernelToPager ask = k.single();
        assertThat(ask.getMemoryObjectLockFutex().getTry()).isTrue();
        k.busy(0);
        assertThat(first.value()).as("busy elsewhere: not acquired").isNull();
        assertThat(k.env.sent).isEmpty();

        Answer<AcquirePath> second = k.trylock(t1, k.base);
        assertThat(k.single().getMemoryObjectLockFutex().getTry()).isTrue();
        k.grant(0);
        assertThat(k.sentRoutines()).containsExactly(MEMORY_OBJECT_DATA_REQUEST);
        k.zeroFill(0);
        assertThat(second.value()).isEqualTo(AcquirePath.PAGER_GRANT);

        assertThat(k.trylock(t2, k.base).value()).as("held locally").isNull();
        k.unlock(t1, k.base).value();
        assertThat(k.trylock(t2, k.base).value()).isEqualTo(AcquirePath.FAST_PATH);
        assertThat(k.env.sent).isEmpty();
    }

    /** A timed-out waiter leaves the queue; WAITERS stays in the owner's word, as Linux leaves it. */
    @Test
    void aTimeoutRemovesTheWaiter() {
        k.acquireFromPager(t1, k.base);
        Answer<AcquirePath> waiting = k.lock(t2, k.base, 1_000_000);
        k.env.advance(999_999);
        assertThat(waiting.answered()).isFalse();
        k.env.advance(1);
        assertThat(waiting.error().errno()).isEqualTo(Errno.ETIMEDOUT);
        assertThat(waiting.error().message()).contains("timeout");
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(t1.tid | FutexWord.WAITERS);
        k.unlock(t1, k.base).value();
        assertThat(FutexWord.word(k.futex(k.base).state())).as("nobody waits: free").isZero();
        assertThat(k.lock(t2, k.base).value()).isEqualTo(AcquirePath.FAST_PATH);
    }

    /** A timeout that is not reached is cancelled when the futex comes. */
    @Test
    void aWaiterThatGetsTheFutexDoesNotTimeOutLater() {
        k.acquireFromPager(t1, k.base);
        Answer<AcquirePath> waiting = k.lock(t2, k.base, 1_000_000);
        k.unlock(t1, k.base).value();
        assertThat(waiting.value()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        k.env.advance(10_000_000); // Answer throws if answered twice
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(t2.tid | FutexWord.WAITERS);
    }

    /** A grant the kernel did not ask for changes nothing. */
    @Test
    void anUnaskedGrantIsIgnored() {
        k.acquireFromPager(t1, k.base);
        long before = k.futex(k.base).state();
        k.grant(0);
        k.grant(4 * CoreFixture.PAGE - 4);
        k.relinquish(64);
        assertThat(k.futex(k.base).state()).isEqualTo(before);
        assertThat(k.env.sent).isEmpty();
    }

    /** When the pager is gone, waiters fail with EIO and cached futexes are no longer handed out. */
    @Test
    void losingThePagerFailsWaitersAndStopsTheCache() {
        k.acquireFromPager(t1, k.base);
        Answer<AcquirePath> waiting = k.lock(t2, k.base);
        k.acquireFromPager(t3, k.base + 4);
        k.unlock(t3, k.base + 4).value();
        k.core.xp().onPagerLost(0, "test");
        assertThat(waiting.error().errno()).isEqualTo(Errno.EIO);
        assertThat(k.futex(k.base + 4).tryFastLock(t3.tid)).as("no fast path without the pager").isFalse();
        assertThat(k.lock(t3, k.base + 4).error().errno()).isEqualTo(Errno.EIO);
        assertThat(k.unlock(t1, k.base).answered()).isTrue();
        assertThat(k.env.sent).isEmpty();
    }

    /**
     * Another kernel's trylock (relinquish_futex with try): a futex cached here and free goes
     * back at once, so that the trylock gets it (Linux: TRYLOCK_PI on a free word succeeds).
     */
    @Test
    void aTrylockElsewhereGetsAFreeCachedFutex() {
        k.acquireFromPager(t1, k.base);
        k.unlock(t1, k.base).value();
        k.relinquishTry(0);
        var released = k.single().getMemoryObjectFutexReleased();
        assertThat(released.getHandoff()).as("nobody here owned it").isFalse();
        assertThat(FutexWord.isAbsent(k.futex(k.base).state())).isTrue();
    }

    /**
     * A trylock elsewhere of a futex a thread here owns: kept, WAITERS set in the word (as Linux's
     * failed TRYLOCK_PI leaves it), futex_held answers; the owner's unlock then frees it here.
     */
    @Test
    void aTrylockElsewhereOfAnOwnedFutexSetsWaitersAndIsAnsweredHeld() {
        k.acquireFromPager(t1, k.base);
        k.relinquishTry(0);
        var held = k.single().getMemoryObjectFutexHeld();
        assertThat(held.getOffset()).isZero();
        assertThat(held.getFencingToken()).isEqualTo(k.futex(k.base).fencingToken);
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(t1.tid | FutexWord.WAITERS);
        k.unlock(t1, k.base).value();
        assertThat(k.futex(k.base).state()).as("kept here, free").isEqualTo(FutexWord.FREE);
        assertThat(k.env.sent).isEmpty();
    }

    /** A local trylock of a futex another thread owns sets WAITERS, as Linux's TRYLOCK_PI does. */
    @Test
    void aFailedTrylockSetsWaiters() {
        k.acquireFromPager(t1, k.base);
        assertThat(k.trylock(t2, k.base).value()).isNull();
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(t1.tid | FutexWord.WAITERS);
    }

    /**
     * An owner's unlock that gives the futex to a kernel that waits says handoff, so that the
     * next owner there gets WAITERS in its word, as after Linux's handoff.
     */
    @Test
    void anUnlockToAWaitingKernelIsAHandoff() {
        k.acquireFromPager(t1, k.base);
        k.relinquish(0, 5);
        k.unlock(t1, k.base).value();
        assertThat(k.single().getMemoryObjectFutexReleased().getHandoff()).isTrue();
    }

    /** One futex_released that asks again for the local waiters (request_again), no separate lock_futex. */
    private void assertReleasedAndAskedAgain() {
        var released = k.single().getMemoryObjectFutexReleased();
        assertThat(released.getRequestAgain()).as("asked again inside futex_released").isTrue();
        assertThat(released.getRequestPriority()).isEqualTo(k.futex(k.base).requestedPriority);
    }
}
