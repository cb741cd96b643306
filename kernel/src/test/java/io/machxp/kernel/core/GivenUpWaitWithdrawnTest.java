package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.Errno;
import org.junit.jupiter.api.Test;

/**
 * An undo (abandoned_lock_seq) that overtakes its lock - the lock still waits, or has not reached
 * the core yet - withdraws it: the waiting lock answers EINTR, the thread is free for its next call
 * at once, and the futex never goes to it.
 */
class GivenUpWaitWithdrawnTest {
    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, 1_000);
    private final MachThread owner = k.thread();
    private final MachThread t2 = k.thread();
    private final long f = k.base;
    private final long g = k.base + 8;

    private Answer<Acquired> lock(MachThread t, long address, long seq) {
        Answer<Acquired> a = new Answer<>();
        k.core.vmLockFutex(k.task.id, t.tid, address, -1, seq, a);
        return a;
    }

    private Answer<Void> undo(MachThread t, long address, long seq) {
        Answer<Void> a = new Answer<>();
        k.core.vmUndoAbandonedLock(k.task.id, t.tid, address, seq, a);
        return a;
    }

    @Test
    void anUndoOfAWaitingLockWithdrawsIt() {
        k.acquireFromPager(owner, f);
        Answer<Acquired> waiting = lock(t2, f, 5);
        assertThat(waiting.answered()).as("F is the owner's: t2 waits").isFalse();
        Answer<Void> u = undo(t2, f, 5);
        assertThat(u.answered()).as("the undo is answered at once").isTrue();
        u.value();
        assertThat(waiting.error().errno()).as("the given-up lock").isEqualTo(Errno.EINTR);
        assertThat(t2.blockedIn).as("t2 is free for its next call").isNull();
        k.unlock(owner, f).value();
        assertThat(FutexWord.owner(k.futex(f).state())).as("F did not go to t2").isNotEqualTo(t2.tid);
        k.acquireFromPager(t2, g); // its next call is served, not EBUSY
    }

    @Test
    void aLockThatReachesTheCoreAfterItsUndoIsRefused() {
        k.acquireFromPager(owner, f);
        k.unlock(owner, f).value();
        Answer<Void> u = undo(t2, f, 7);
        assertThat(u.error().errno()).as("nothing to undo yet").isEqualTo(Errno.EPERM);
        Answer<Acquired> late = lock(t2, f, 7);
        assertThat(late.error().errno()).isEqualTo(Errno.EINTR);
        assertThat(FutexWord.owner(k.futex(f).state())).as("F stays free").isZero();
        lock(t2, f, 8).value(); // a later lock is served
    }

    @Test
    void anUndoOfAnEarlierLockLeavesALaterWaitAlone() {
        k.acquireFromPager(owner, f);
        Answer<Acquired> waiting = lock(t2, f, 9);
        Answer<Void> u = undo(t2, f, 8);
        assertThat(u.error().errno()).isEqualTo(Errno.EPERM);
        assertThat(waiting.answered()).isFalse();
        k.unlock(owner, f).value();
        waiting.value();
        assertThat(FutexWord.owner(k.futex(f).state())).isEqualTo(t2.tid);
    }
}
