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
 * One grant is undone once: a second undo naming it (the kernel's own and the client's both find a
 * grant that crossed a cancel) must not release a later lock the task took by a shared-memory CAS,
 * which records no grant.
 */
class GrantUndoneOnceTest {
    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, 1_000);
    private final MachThread t1 = k.thread();

    private FutexGrant grantWithSeq5() {
        k.acquireFromPager(t1, k.base);
        k.unlock(t1, k.base).value();
        Answer<Acquired> a = new Answer<>();
        k.core.vmLockFutex(k.task.id, t1.tid, k.base, -1, 5, a);
        a.value();
        return t1.grants.of(k.base);
    }

    private void sharedMemoryCasLock() {
        LeaseGate gate = new LeaseGate();
        gate.openWithoutLease();
        assertThat(FutexFastPath.tryLock(t1.task, t1.tid, k.base, k.stats, gate)).as("client's CAS").isNotNull();
    }

    /** Client's abandoned_lock_seq 5 overtakes the kernel's own undo of the same grant. */
    @Test
    void kernelUndoAfterClientUndoAndCas() {
        FutexGrant g = grantWithSeq5();
        Answer<Void> client = new Answer<>();
        k.core.vmUndoAbandonedLock(k.task.id, t1.tid, k.base, 5, client);
        client.value();
        sharedMemoryCasLock();
        Answer<Void> own = new Answer<>();
        k.core.vmUndoFutexGrant(k.task.id, t1.tid, k.base, g, own);
        assertThat(FutexWord.owner(k.futex(k.base).state())).as("the CAS lock is still t1's").isEqualTo(t1.tid);
    }

    /** The kernel's own undo ran; the client's undo (timed out at the client) runs after its CAS. */
    @Test
    void staleClientUndoAfterCas() {
        FutexGrant g = grantWithSeq5();
        Answer<Void> own = new Answer<>();
        k.core.vmUndoFutexGrant(k.task.id, t1.tid, k.base, g, own);
        own.value();
        sharedMemoryCasLock();
        Answer<Void> client = new Answer<>();
        k.core.vmUndoAbandonedLock(k.task.id, t1.tid, k.base, 5, client);
        assertThat(FutexWord.owner(k.futex(k.base).state())).as("the CAS lock is still t1's").isEqualTo(t1.tid);
    }
}
