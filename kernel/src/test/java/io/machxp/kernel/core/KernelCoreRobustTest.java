package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.task.Tids;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Robust futexes in one kernel core: OWNER_DIED, EOWNERDEAD, vm_futex_consistent, ENOTRECOVERABLE. */
class KernelCoreRobustTest {
    private final CoreFixture k = new CoreFixture(true);
    private final MachThread owner = k.thread();
    private final MachThread next = k.thread();
    private final MachThread later = k.thread();

    @Test
    void aThreadThatEndsHoldingAFutexPassesItOnWithOwnerDied() {
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waiting = k.lockFull(next, k.base);
        k.terminate(owner).value();
        k.env.advance(0); // the woken waiter takes it at its run, at the end of the instant
        assertThat(waiting.value()).extracting(Acquired::path, Acquired::ownerDied)
                .containsExactly(AcquirePath.LOCAL_HANDOFF, true);
        assertThat(FutexWord.word(k.futex(k.base).state()))
                .as("it had waited: WAITERS too, as Linux's raw word").isEqualTo(next.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS);

        k.consistent(next, k.base).value();
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(next.tid | FutexWord.WAITERS);
        k.unlock(next, k.base).value();
        assertThat(k.futex(k.base).state()).isEqualTo(FutexWord.FREE);
        assertThat(k.lockFull(later, k.base).value()).extracting(Acquired::path, Acquired::ownerDied)
                .containsExactly(AcquirePath.FAST_PATH, false);
    }

    @Test
    void unlockingWithoutMarkingItConsistentMakesItNotRecoverableForEveryone() {
        k.acquireFromPager(owner, k.base);
        k.terminate(owner).value();
        assertThat(FutexWord.word(k.futex(k.base).state())).as("free, its owner died").isEqualTo(FutexWord.OWNER_DIED);

        assertThat(k.lockFull(next, k.base).value().ownerDied()).isTrue();
        Answer<AcquirePath> queued = k.lock(later, k.base);
        k.unlock(next, k.base).value();
        assertThat(queued.error().errno()).isEqualTo(Errno.ENOTRECOVERABLE);
        assertThat(queued.error().message()).contains("not recoverable");
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(FutexWord.NOT_RECOVERABLE);
        assertThat(k.lock(later, k.base).error().errno()).isEqualTo(Errno.ENOTRECOVERABLE);
        assertThat(k.trylock(later, k.base).error().errno()).isEqualTo(Errno.ENOTRECOVERABLE);
        assertThat(k.sentRoutines()).isEmpty();
    }

    /**
     * The page holds another futex this kernel keeps, so it stays here: should the kernel die
     * before it goes back, the death recorded in it would be lost, so the release says so too.
     */
    @Test
    void aDeathRecordedInAPageThatStaysHereLeavesWithTheReleaseToo() {
        k.acquireFromPager(owner, k.base);
        k.acquireFromPager(next, k.base + 4);
        k.terminate(owner).value();
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(FutexWord.OWNER_DIED);
        k.relinquish(0);
        var released = k.single().getMemoryObjectFutexReleased();
        assertThat(released.getPagesList()).as("the page stays with the futex at 4").isEmpty();
        assertThat(released.getOwnerDied()).isTrue();

        k.unlock(next, k.base + 4).value();
        assertThat(k.sentRoutines()).isEmpty();
        k.relinquish(4); // nobody died holding this one: no flag, and now the page goes along
        var other = k.single().getMemoryObjectFutexReleased();
        assertThat(other.getOwnerDied()).isFalse();
        assertThat(other.getPagesList()).hasSize(1);
    }

    @Test
    void theRobustStateLeavesWithThePageForTheNextKernel() {
        k.acquireFromPager(owner, k.base);
        k.relinquish(0, 50);
        k.terminate(owner).value();
        var released = k.single().getMemoryObjectFutexReleased();
        assertThat(released.getPagesCount()).as("the page goes with the futex").isOne();
        assertThat(released.getPages(0).getOffset()).isZero();
        assertThat(released.getPages(0).getData().substring(0, 4).toByteArray())
                .as("the word in the page says the owner died; WAITERS stays, as Linux's handle_futex_death "
                        + "leaves it: a waiter elsewhere had it set").isEqualTo(le(FutexWord.OWNER_DIED | FutexWord.WAITERS));
    }

    /**
     * A TID of no thread that a task wrote into the word is not a death the system saw: as
     * Linux's LOCK_PI and TRYLOCK_PI, ESRCH (also with OWNER_DIED set), and the word reads
     * TID|WAITERS afterwards.
     */
    @Test
    void aWordHoldingTheTidOfNoThreadGivesEsrch() {
        int bogus = Tids.tid(7, 3);
        Answer<Void> written = k.write(k.base + 16, le(bogus));
        assertThat(k.single().hasMemoryObjectDataRequest()).isTrue();
        k.zeroFill(0);
        written.value();
        Answer<Acquired> lock = k.lockFull(next, k.base + 16);
        assertThat(k.single().getMemoryObjectLockFutex().getOffset()).isEqualTo(16);
        k.grant(16);
        assertThat(lock.error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(FutexWord.word(k.futex(k.base + 16).state())).isEqualTo(bogus | FutexWord.WAITERS);
        assertThat(k.trylock(later, k.base + 16).error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(k.lockFull(later, k.base + 16).error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(k.sentRoutines()).as("decided here: the futex stays cached").isEmpty();

        Answer<Void> withDeath = k.write(k.base + 32, le(bogus | FutexWord.OWNER_DIED));
        withDeath.value();
        Answer<Acquired> again = k.lockFull(next, k.base + 32);
        k.grant(32);
        assertThat(again.error().errno()).as("OWNER_DIED with a TID of no thread").isEqualTo(Errno.ESRCH);
    }

    /**
     * A word with TID 0 and flags a task wrote: as Linux's LOCK_PI (no waiter in the kernel), the
     * lock takes it with the caller's TID, keeps OWNER_DIED (EOWNERDEAD) and drops WAITERS.
     */
    @Test
    void aWordOfFlagsAloneIsTakenKeepingOnlyOwnerDied() {
        Answer<Void> written = k.write(k.base + 16, le(FutexWord.WAITERS));
        k.zeroFill(0);
        written.value();
        Answer<Acquired> lock = k.lockFull(next, k.base + 16);
        k.grant(16);
        assertThat(lock.value().ownerDied()).isFalse();
        assertThat(FutexWord.word(k.futex(k.base + 16).state())).isEqualTo(next.tid);

        k.write(k.base + 32, le(FutexWord.OWNER_DIED | FutexWord.WAITERS)).value();
        Answer<Acquired> again = k.lockFull(later, k.base + 32);
        k.grant(32);
        assertThat(again.value().ownerDied()).isTrue();
        assertThat(FutexWord.word(k.futex(k.base + 32).state())).isEqualTo(later.tid | FutexWord.OWNER_DIED);
    }

    /**
     * 0x3fffffff, the TID field all ones, is the TID of no thread too (never given to a thread),
     * not a free word: Linux's LOCK_PI and TRYLOCK_PI answer ESRCH and leave WAITERS. Only with
     * OWNER_DIED set is it machxp's NOT_RECOVERABLE.
     */
    @Test
    void aWordHoldingTidMaskGivesEsrch() {
        Answer<Void> written = k.write(k.base + 16, le(FutexWord.TID_MASK));
        k.zeroFill(0);
        written.value();
        var trylock = k.trylock(next, k.base + 16);
        k.grant(16);
        assertThat(trylock.error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(FutexWord.word(k.futex(k.base + 16).state())).isEqualTo(FutexWord.TID_MASK | FutexWord.WAITERS);
        assertThat(k.lockFull(later, k.base + 16).error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(FutexWord.owner(FutexWord.NOT_RECOVERABLE)).isZero();
    }

    /**
     * A thread's fast-path lock that lands after its death's scan of what it owned leaves the
     * futex with the TID of a thread this kernel saw end: that is a death, so the next locker gets
     * it with EOWNERDEAD (not ESRCH, and not a futex stranded for good).
     */
    @Test
    void aFutexLeftOwnedByAThreadThatEndedIsAnOwnerDeath() {
        k.acquireFromPager(owner, k.base);
        k.unlock(owner, k.base).value();
        k.terminate(owner).value();
        assertThat(k.futex(k.base).tryFastLock(owner.tid)).as("the late CAS of the dead thread").isTrue();
        Answer<Acquired> lock = k.lockFull(next, k.base);
        assertThat(lock.value()).extracting(Acquired::ownerDied).isEqualTo(true);
        assertThat(FutexWord.owner(k.futex(k.base).state())).isEqualTo(next.tid);
    }

    @Test
    void onlyTheOwnerAfterADeathMarksItConsistent() {
        k.acquireFromPager(owner, k.base);
        assertThat(k.consistent(owner, k.base).error().errno()).as("no death to repair").isEqualTo(Errno.EINVAL);
        k.terminate(owner).value();
        k.lockFull(next, k.base).value();
        assertThat(k.consistent(later, k.base).error().errno()).isEqualTo(Errno.EINVAL);
        assertThat(k.consistent(next, k.base).answered()).isTrue();
    }

    @Test
    void aTerminatedThreadStopsWaitingAndItsCallsFail() {
        k.acquireFromPager(owner, k.base);
        Answer<AcquirePath> waiting = k.lock(next, k.base);
        k.terminate(next).value();
        assertThat(waiting.error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(k.lock(next, k.base).error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(FutexWord.word(k.futex(k.base).state())).as("nobody waits any more; WAITERS stays, as on Linux")
                .isEqualTo(owner.tid | FutexWord.WAITERS);
    }

    /**
     * The same race with a kernel waiting elsewhere: the relinquish finds the futex owned by a
     * thread that ended, passes it on as an owner death (OWNER_DIED in the page that goes with
     * it) instead of waiting for an unlock that can never come.
     */
    @Test
    void aRelinquishOfAFutexLeftOwnedByAThreadThatEndedIsAnsweredAtOnce() {
        k.acquireFromPager(owner, k.base);
        k.unlock(owner, k.base).value();
        k.terminate(owner).value();
        assertThat(k.futex(k.base).tryFastLock(owner.tid)).as("the late CAS of the dead thread").isTrue();
        k.relinquish(0, 5);
        var released = k.single().getMemoryObjectFutexReleased();
        assertThat(released.getPagesCount()).isOne();
        assertThat(released.getPages(0).getData().substring(0, 4).toByteArray())
                .as("the next owner is told").isEqualTo(le(FutexWord.OWNER_DIED));
    }

    private static byte[] le(int word) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(word).array();
    }
}
