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
        assertThat(waiting.value()).extracting(Acquired::path, Acquired::ownerDied)
                .containsExactly(AcquirePath.LOCAL_HANDOFF, true);
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(next.tid | FutexWord.OWNER_DIED);

        k.consistent(next, k.base).value();
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(next.tid);
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
                .as("the word in the page says the owner died").isEqualTo(le(FutexWord.OWNER_DIED));
    }

    @Test
    void aWordHoldingTheTidOfNoLivingThreadIsHandledAsOwnerDied() {
        Answer<Void> written = k.write(k.base + 16, le(Tids.tid(7, 3)));
        assertThat(k.single().hasMemoryObjectDataRequest()).isTrue();
        k.zeroFill(0);
        written.value();
        Answer<Acquired> lock = k.lockFull(next, k.base + 16);
        assertThat(k.single().getMemoryObjectLockFutex().getOffset()).isEqualTo(16);
        k.grant(16);
        assertThat(lock.value()).extracting(Acquired::path, Acquired::ownerDied)
                .containsExactly(AcquirePath.PAGER_GRANT, true);
        assertThat(FutexWord.word(k.futex(k.base + 16).state())).isEqualTo(next.tid | FutexWord.OWNER_DIED);
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
        assertThat(FutexWord.word(k.futex(k.base).state())).as("nobody waits any more").isEqualTo(owner.tid);
    }

    private static byte[] le(int word) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(word).array();
    }
}
