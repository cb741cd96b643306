package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexFastPath;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.futex.LeaseGate;
import io.machxp.kernel.task.FutexGrant;
import io.machxp.kernel.task.MachThread;
import org.junit.jupiter.api.Test;

/**
 * A thread's grants are recorded per futex (shmcd review F3): a grant of another futex between a
 * grant and its undo - the fast path's, or the core's - does not hide the grant the undo names.
 */
class GrantsPerFutexTest {
    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, 1_000);
    private final MachThread t1 = k.thread();
    private final long f = k.base;
    private final long g = k.base + 8;

    /** Both futexes cached here and free, then a core lock of {@code address} by t1 with {@code seq}. */
    private void cacheBoth() {
        k.acquireFromPager(t1, f);
        k.unlock(t1, f).value();
        k.acquireFromPager(t1, g);
        k.unlock(t1, g).value();
    }

    private void coreLock(long address, long seq) {
        Answer<Acquired> a = new Answer<>();
        k.core.vmLockFutex(k.task.id, t1.tid, address, -1, seq, a);
        a.value();
    }

    private int owner(long address) {
        return FutexWord.owner(k.futex(address).state());
    }

    /** The client's undo of F's lock 5 after the thread's lock 6 of G got G. */
    @Test
    void theClientsUndoFindsItsGrantAfterAGrantOfAnotherFutex() {
        cacheBoth();
        coreLock(f, 5);
        coreLock(g, 6);
        Answer<Void> undo = new Answer<>();
        k.core.vmUndoAbandonedLock(k.task.id, t1.tid, f, 5, undo);
        undo.value();
        assertThat(owner(f)).as("F's given-up grant is undone").isZero();
        assertThat(owner(g)).as("G's grant is untouched").isEqualTo(t1.tid);
    }

    /** The kernel's own undo of F's grant, queued, after a fast-path grant of G recorded in between. */
    @Test
    void theKernelsUndoFindsItsGrantAfterAFastPathGrantOfAnotherFutex() {
        cacheBoth();
        coreLock(f, 5);
        FutexGrant ofF = t1.grants.of(f);
        LeaseGate gate = new LeaseGate();
        gate.openWithoutLease();
        assertThat(FutexFastPath.tryLock(t1.task, t1.tid, g, k.stats, gate)).as("the fast path's CAS of G").isNotNull();
        t1.grants.record(FutexGrant.next(g, 6)); // as the task service's fast path records it, after its CAS
        Answer<Void> undo = new Answer<>();
        k.core.vmUndoFutexGrant(k.task.id, t1.tid, f, ofF, undo);
        undo.value();
        assertThat(owner(f)).isZero();
        assertThat(owner(g)).isEqualTo(t1.tid);
    }

    /** A plain unlock through the kernel forgets the grant: no later undo may name it. */
    @Test
    void anUnlockForgetsTheGrant() {
        cacheBoth();
        coreLock(f, 5);
        k.unlock(t1, f).value();
        assertThat(t1.grants.of(f)).isNull();
    }
}
