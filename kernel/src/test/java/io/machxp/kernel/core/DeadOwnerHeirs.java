package io.machxp.kernel.core;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;

/**
 * Test support for a dead owner's futex and its woken heir (FutexHeirs): the owner of the futex at
 * the fixture's base dies while two waiters wait and a higher thread computes on the only CPU, so
 * the heir is woken but cannot run yet.
 */
final class DeadOwnerHeirs {
    private DeadOwnerHeirs() {}

    /** What {@link #ownerDiesWhileAHigherThreadComputes} made. */
    record Waiters(CoreFixture k, MachThread owner, MachThread heir, MachThread next, MachThread high,
            Answer<Acquired> heirWaits, Answer<Acquired> nextWaits, Answer<Void> work) {}

    /**
     * The owner (10) of the futex at {@code k.base} dies while the heir (20) and the next waiter
     * (15) wait and a higher thread (30) computes {@code computeNanos} on the only CPU.
     */
    static Waiters ownerDiesWhileAHigherThreadComputes(CoreFixture k, long computeNanos) {
        MachThread owner = k.thread(10);
        MachThread heir = k.thread(20);
        MachThread next = k.thread(15);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> heirWaits = k.lockFull(heir, k.base);
        Answer<Acquired> nextWaits = k.lockFull(next, k.base);
        Answer<Void> work = k.compute(high, computeNanos);
        k.terminate(owner).value();
        return new Waiters(k, owner, heir, next, high, heirWaits, nextWaits, work);
    }

    /** The word of the futex at {@code k.base}. */
    static int word(CoreFixture k) {
        return FutexWord.word(k.futex(k.base).state());
    }
}
