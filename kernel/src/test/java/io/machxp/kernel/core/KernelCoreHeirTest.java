package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import org.junit.jupiter.api.Test;

/**
 * The woken heir of a dead owner's futex (KernelFutexes.wakeHeir): as Linux's robust-list walk,
 * an owner's death leaves the word OWNER_DIED|WAITERS with no owner and wakes the top waiter,
 * which takes the futex when it runs; a strictly higher lock or trylock takes it first.
 */
class KernelCoreHeirTest {
    private static final long MS = 1_000_000L;

    /** Runs {@code then} as {@code t}'s compute of {@code nanos} ends, while it still has its CPU. */
    private static void computeThen(CoreFixture k, MachThread t, long nanos, Runnable then) {
        k.core.threadCompute(k.task.id, t.tid, nanos, new Reply<>() {
            @Override
            public void complete(Void value) {
                then.run();
            }

            @Override
            public void fail(KernelError error) {
                throw new AssertionError(error.message());
            }
        });
    }

    private static int word(CoreFixture k) {
        return FutexWord.word(k.futex(k.base).state());
    }

    /**
     * As Linux measured it (docs/linux-mode.md): an owner dies while its waiter cannot run (a
     * higher thread computes on the only CPU); nobody owns the futex until the woken waiter runs
     * (word OWNER_DIED|WAITERS), so the higher thread's trylock takes it with EOWNERDEAD, and the
     * waiter, still queued, gets it (ok) at that thread's unlock. A trylock at the waiter's
     * priority is busy.
     */
    @Test
    void aHigherTrylockBeforeTheWokenWaiterRunsTakesItWithOwnerDied() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread waiter = k.thread(20);
        MachThread same = k.thread(20);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waiting = k.lockFull(waiter, k.base);
        Answer<Acquired> taken = new Answer<>();
        computeThen(k, high, 10 * MS, () -> k.core.vmTrylockFutex(k.task.id, high.tid, k.base, taken));
        k.terminate(owner).value();
        assertThat(waiting.answered()).as("the waiter has no CPU to take the futex").isFalse();
        assertThat(word(k)).as("nobody owns it until the waiter runs: no TID in the word")
                .isEqualTo(FutexWord.OWNER_DIED | FutexWord.WAITERS);
        assertThat(k.trylock(same, k.base).value()).as("at the waiter's priority: busy").isNull();
        k.env.advance(10 * MS);
        assertThat(taken.value().ownerDied()).as("EOWNERDEAD for the thread above the waiter").isTrue();
        assertThat(waiting.answered()).isFalse();
        k.consistent(high, k.base).value();
        k.unlock(high, k.base).value();
        assertThat(waiting.value().ownerDied()).isFalse();
        assertThat(word(k)).isEqualTo(waiter.tid | FutexWord.WAITERS);
    }

    /** The same with a lock: the higher thread takes it (EOWNERDEAD), the waiter gets it after. */
    @Test
    void aHigherLockBeforeTheWokenWaiterRunsTakesItWithOwnerDied() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread waiter = k.thread(20);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waiting = k.lockFull(waiter, k.base);
        Answer<Acquired> taken = new Answer<>();
        computeThen(k, high, 10 * MS, () -> k.core.vmLockFutex(k.task.id, high.tid, k.base, -1, taken));
        k.terminate(owner).value();
        k.env.advance(10 * MS);
        assertThat(taken.value()).extracting(Acquired::path, Acquired::ownerDied)
                .containsExactly(AcquirePath.FAST_PATH, true);
        assertThat(word(k)).isEqualTo(high.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS);
        k.consistent(high, k.base).value();
        k.unlock(high, k.base).value();
        assertThat(waiting.value().ownerDied()).isFalse();
    }

    /** A waiter that can run when the owner dies gets the futex at once, as before (no ownerless word). */
    @Test
    void aWaiterThatCanRunTakesTheFutexAtTheDeath() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread waiter = k.thread(20);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waiting = k.lockFull(waiter, k.base);
        k.terminate(owner).value();
        assertThat(waiting.value()).extracting(Acquired::path, Acquired::ownerDied)
                .containsExactly(AcquirePath.LOCAL_HANDOFF, true);
        assertThat(word(k)).isEqualTo(waiter.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS);
        assertThat(k.env.traces).noneMatch(t -> t.startsWith("owner-died-wake"));
    }

    /** A woken heir that ends before it runs passes the dead owner's futex on to the next waiter. */
    @Test
    void aWokenHeirThatEndsBeforeItRunsWakesTheNextWaiter() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread heir = k.thread(20);
        MachThread next = k.thread(15);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> heirWaits = k.lockFull(heir, k.base);
        Answer<Acquired> nextWaits = k.lockFull(next, k.base);
        Answer<Void> work = k.compute(high, 10 * MS);
        k.terminate(owner).value();
        k.terminate(heir).value();
        assertThat(heirWaits.error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(nextWaits.answered()).as("the next waiter has no CPU either").isFalse();
        assertThat(word(k)).isEqualTo(FutexWord.OWNER_DIED | FutexWord.WAITERS);
        k.env.advance(10 * MS);
        assertThat(work.answered()).isTrue();
        assertThat(nextWaits.value().ownerDied()).isTrue();
        assertThat(word(k)).isEqualTo(next.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS);
    }
}
