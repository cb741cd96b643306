package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The woken heir of a PI unlock (FutexHeirs.wakeUnlockHeir): as Linux's FUTEX_UNLOCK_PI, an
 * unlock that hands the futex to a waiter that cannot run writes the waiter's TID|WAITERS into
 * the word, but nobody owns the futex until that waiter runs; a strictly higher lock here, or a
 * higher waiter elsewhere, takes it first (Linux's rt_mutex steal), an equal or lower one waits
 * behind the heir, and nobody is boosted for it meanwhile.
 * (scenarios/unlock-higher-relock-before-woken-waiter-runs.yaml).
 */
class KernelCoreUnlockHeirTest {
    private static final long MS = 1_000_000L;

    private static long word(CoreFixture k) {
        return FutexWord.word(k.futex(k.base).state()) & 0xffffffffL;
    }

    private static long held(MachThread t) {
        return (t.tid | FutexWord.WAITERS) & 0xffffffffL;
    }

    /**
     * The measured case (one CPU): H (70) unlocks with L (20) waiting and keeps its CPU, so L
     * cannot run; the word is L|WAITERS, H's lock then takes the futex at once (H|WAITERS), L is
     * never boosted and gets it at H's next unlock. The old code handed the futex to L at the
     * unlock: H's lock waited and boosted L to 70.
     */
    @Test
    void aHigherLockTakesTheFutexFromTheWaiterAnUnlockWokeBeforeItRuns() {
        CoreFixture k = new CoreFixture(true);
        MachThread high = k.thread(70);
        MachThread low = k.thread(20);
        k.acquireFromPager(high, k.base);
        Answer<Acquired> waiting = k.lockFull(low, k.base);
        long[] afterUnlock = new long[1];
        Answer<Acquired> relock = new Answer<>();
        k.computeThen(high, 10 * MS, () -> {
            k.unlock(high, k.base).value();
            afterUnlock[0] = word(k);
            k.core.vmLockFutex(k.task.id, high.tid, k.base, -1, relock);
        });
        k.env.advance(10 * MS);
        assertThat(afterUnlock[0]).as("FUTEX_UNLOCK_PI writes the waiter's TID").isEqualTo(held(low));
        assertThat(relock.value()).as("the higher lock steals it").isNotNull();
        assertThat(word(k)).isEqualTo(held(high));
        assertThat(waiting.answered()).as("the heir waits on").isFalse();
        assertThat(low.effectivePriority).as("nobody boosted the heir").isEqualTo(20);
        k.env.advance(10 * MS);
        assertThat(waiting.answered()).as("it waits for the stealer's unlock").isFalse();
        k.unlock(high, k.base).value();
        assertThat(waiting.value().path()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(word(k)).as("WAITERS for the last waiter too, as Linux").isEqualTo(held(low));
        assertThat(k.env.traces).anyMatch(t -> t.startsWith("unlock-taken-before-heir"));
    }

    /** An equal thread does not steal (no lateral steal in a futex's rt_mutex): busy, or queued behind the heir. */
    @Test
    void anEqualThreadWaitsBehindTheHeirAndBoostsNobody() {
        CoreFixture k = new CoreFixture(true);
        MachThread high = k.thread(70);
        MachThread low = k.thread(20);
        MachThread equal = k.thread(20);
        k.acquireFromPager(high, k.base);
        Answer<Acquired> waiting = k.lockFull(low, k.base);
        Answer<Acquired> tried = new Answer<>();
        Answer<Acquired> queued = new Answer<>();
        k.computeThen(high, 10 * MS, () -> {
            k.unlock(high, k.base).value();
            k.core.vmTrylockFutex(k.task.id, equal.tid, k.base, tried);
            k.core.vmLockFutex(k.task.id, equal.tid, k.base, -1, queued);
        });
        k.env.advance(10 * MS);
        assertThat(tried.value()).as("an equal trylock is busy").isNull();
        assertThat(waiting.value().path()).as("the heir takes it when it runs").isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(queued.answered()).isFalse();
        assertThat(word(k)).isEqualTo(held(low));
        k.unlock(low, k.base).value();
        assertThat(queued.value()).isNotNull();
    }

    /**
     * An unlock's heir that ends before it runs dies holding the futex, as Linux's woken waiter
     * takes the ownerless lock on its way out: the next waiter gets it with EOWNERDEAD, when it runs.
     */
    @Test
    void anUnlocksHeirThatEndsBeforeItRunsDiesHoldingIt() {
        CoreFixture k = new CoreFixture(true);
        MachThread high = k.thread(70);
        MachThread low = k.thread(20);
        MachThread lower = k.thread(10);
        k.acquireFromPager(high, k.base);
        Answer<Acquired> first = k.lockFull(low, k.base);
        Answer<Acquired> second = k.lockFull(lower, k.base);
        k.computeThen(high, 10 * MS, () -> {
            k.unlock(high, k.base).value();
            k.terminate(low).value();
        });
        k.env.advance(10 * MS);
        assertThat(first.answered()).isTrue();
        assertThat(second.value().ownerDied()).isTrue();
        assertThat(word(k)).isEqualTo((lower.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS) & 0xffffffffL);
    }

    /** A waiter that can run when the owner unlocks gets the futex at once, as before. */
    @Test
    void aWaiterThatCanRunGetsTheFutexAtTheUnlock() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread waiter = k.thread(20);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waiting = k.lockFull(waiter, k.base);
        k.unlock(owner, k.base).value();
        assertThat(waiting.value().path()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(k.env.traces).noneMatch(t -> t.startsWith("unlock-wake"));
    }

    /**
     * A waiter elsewhere above the heir (relinquish_futex at a higher priority) takes it first:
     * the futex is released free (no OWNER_DIED: an unlock, not a death) and asked for again for
     * the heir, who waits on; the old code kept it for the heir as its owner and boosted it.
     */
    @Test
    void aHigherWaiterElsewhereTakesTheFutexFromTheHeir() {
        CoreFixture k = new CoreFixture(true);
        MachThread high = k.thread(70);
        MachThread low = k.thread(20);
        k.acquireFromPager(high, k.base);
        Answer<Acquired> waiting = k.lockFull(low, k.base);
        k.computeThen(high, 10 * MS, () -> {
            k.unlock(high, k.base).value();
            k.env.drain();
            k.relinquish(0, 40);
        });
        k.env.advance(10 * MS);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::getRoutineCase)
                .containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED);
        var released = sent.get(0).getMemoryObjectFutexReleased();
        assertThat(released.getRequestAgain()).as("asked for again: the heir waits on").isTrue();
        assertThat(released.getOwnerDied()).isFalse();
        assertThat(released.getPages(0).getData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .getInt(0) & ~FutexWord.WAITERS).as("free: the waiter elsewhere takes it").isZero();
        assertThat(waiting.answered()).isFalse();
        assertThat(low.effectivePriority).isEqualTo(20);
    }

    /**
     * Across kernels: a grant that hands another kernel's unlock (handoff) to a waiter here that
     * cannot run makes it the heir (word L|WAITERS); a higher lock here takes it first.
     */
    @Test
    void aGrantedHandoffToAWaiterThatCannotRunMakesItTheHeir() {
        CoreFixture k = new CoreFixture(true);
        MachThread low = k.thread(20);
        MachThread high = k.thread(70);
        Answer<Acquired> waiting = k.lockFull(low, k.base);
        assertThat(k.single().hasMemoryObjectLockFutex()).isTrue();
        Answer<Acquired> stolen = new Answer<>();
        k.computeThen(high, 10 * MS, () -> {
            k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                    .setObjectId(CoreFixture.OBJECT_ID).setOffset(0).setFencingToken(1).setHandoff(true)
                    .addPages(io.machxp.proto.xp.PageData.newBuilder().setOffset(0)
                            .setData(com.google.protobuf.ByteString.copyFrom(new byte[CoreFixture.PAGE]))))
                    .build());
            assertThat(word(k)).as("the heir's TID, nobody owns it yet").isEqualTo(held(low));
            k.core.vmLockFutex(k.task.id, high.tid, k.base, -1, stolen);
        });
        k.env.advance(10 * MS);
        assertThat(stolen.value()).isNotNull();
        assertThat(word(k)).isEqualTo(held(high));
        assertThat(waiting.answered()).isFalse();
        k.unlock(high, k.base).value();
        assertThat(waiting.value()).isNotNull();
    }
}
