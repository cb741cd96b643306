package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.FutexFastPath;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.futex.LeaseGate;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import org.junit.jupiter.api.Test;

/**
 * A kernel paused past its lease (its core thread stalled, its lease timer late) hands out
 * nothing it caches when it resumes: the calls that queued meanwhile are checked against the
 * lease when they run, and the fast path reads the lease before its CAS.
 */
class KernelCoreLeaseGateTest {
    private static final long LEASE_MS = 1_000;
    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, LEASE_MS);
    private final MachThread t1 = k.thread();
    private final MachThread t2 = k.thread();

    /** A lock that runs after a pause longer than the lease fails with EIO and takes nothing. */
    @Test
    void aLockQueuedDuringAPauseLongerThanTheLeaseIsRefused() {
        k.acquireFromPager(t1, k.base);
        k.unlock(t1, k.base).value();
        assertThat(k.futex(k.base).state()).as("cached, free").isEqualTo(FutexWord.FREE);
        k.env.drain();

        k.env.pause(2 * LEASE_MS * 1_000_000);
        var lock = k.lock(t2, k.base);
        assertThat(lock.error().errno()).isEqualTo(Errno.EIO);
        assertThat(lock.error().message()).contains("lease");
        assertThat(FutexWord.owner(k.futex(k.base).state())).as("nobody got it").isZero();
    }

    /** An unlock that runs after such a pause hands nothing to a local waiter either. */
    @Test
    void anUnlockAfterAPauseHandsNothingOn() {
        k.acquireFromPager(t1, k.base);
        var waiting = k.lock(t2, k.base);
        k.env.pause(2 * LEASE_MS * 1_000_000);
        k.unlock(t1, k.base);
        assertThat(waiting.error().errno()).as("the waiter is told, not handed a stale futex").isEqualTo(Errno.EIO);
    }

    /** Within the lease the same calls work as ever. */
    @Test
    void withinTheLeaseNothingChanges() {
        k.acquireFromPager(t1, k.base);
        k.unlock(t1, k.base).value();
        k.env.pause(LEASE_MS * 1_000_000 / 2);
        assertThat(k.lock(t2, k.base).value()).isEqualTo(AcquirePath.FAST_PATH);
    }

    /** The fast path, on a caller's thread, refuses once the gate is closed or its time has passed. */
    @Test
    void theFastPathReadsTheLease() {
        k.acquireFromPager(t1, k.base);
        k.unlock(t1, k.base).value();
        LeaseGate gate = new LeaseGate();
        gate.openUntil(System.nanoTime() - 1);
        assertThat(FutexFastPath.tryLock(t2.task, t2.tid, k.base, k.stats, gate)).as("lease over").isNull();
        gate.openWithoutLease();
        assertThat(FutexFastPath.tryLock(t2.task, t2.tid, k.base, k.stats, gate)).isNotNull();
    }
}
